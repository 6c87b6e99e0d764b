# Cross build for Linux armv7l with Debian's arm-linux-gnueabihf GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EXN_CROSS_TRIPLE arm-linux-gnueabihf)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
