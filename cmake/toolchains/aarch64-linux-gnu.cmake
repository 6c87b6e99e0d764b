# Cross build for Linux aarch64 with Debian's aarch64-linux-gnu GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EXN_CROSS_TRIPLE aarch64-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
