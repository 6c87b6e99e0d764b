# Cross build for Windows x86 with Debian's i686-w64-mingw32 GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)
set(EXN_CROSS_TRIPLE i686-w64-mingw32)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
