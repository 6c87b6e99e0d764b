# Cross build for Linux i686 with Debian's i686-linux-gnu GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(EXN_CROSS_TRIPLE i686-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
