# Cross build for Windows AMD64 with Debian's x86_64-w64-mingw32 GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(EXN_CROSS_TRIPLE x86_64-w64-mingw32)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
