# Cross build for Linux s390x with Debian's s390x-linux-gnu GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(EXN_CROSS_TRIPLE s390x-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
