# Cross build for Linux ppc64le with Debian's powerpc64le-linux-gnu GNU toolchain (see gnu-cross.cmake).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(EXN_CROSS_TRIPLE powerpc64le-linux-gnu)
include("${CMAKE_CURRENT_LIST_DIR}/gnu-cross.cmake")
