# Shared part of the cross toolchain files next to this one: a GNU cross toolchain named by its
# target triple (EXN_CROSS_TRIPLE, set by the including file), e.g. Debian's gcc-aarch64-linux-gnu
# or gcc-mingw-w64-x86-64.  Programs are searched on the host; headers and libraries only in the
# target's root (Debian installs it at /usr/<triple>).  Used by .ci/jobs/42-cross.sh to build the
# C core (csrc + wasm3) and its C tests, not the Python extension.
set(EXN_CROSS_ROOT "/usr/${EXN_CROSS_TRIPLE}" CACHE PATH "Target root of the cross toolchain")

find_program(CMAKE_C_COMPILER NAMES ${EXN_CROSS_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${EXN_CROSS_TRIPLE}-g++)
find_program(CMAKE_AR NAMES ${EXN_CROSS_TRIPLE}-gcc-ar ${EXN_CROSS_TRIPLE}-ar REQUIRED)
find_program(CMAKE_RANLIB NAMES ${EXN_CROSS_TRIPLE}-gcc-ranlib ${EXN_CROSS_TRIPLE}-ranlib REQUIRED)
if(CMAKE_SYSTEM_NAME STREQUAL "Windows")
  find_program(CMAKE_RC_COMPILER NAMES ${EXN_CROSS_TRIPLE}-windres)
  # no libgcc_s_*.dll beside the DLL and executables: they need only system DLLs, as with MSVC
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
endif()

set(CMAKE_FIND_ROOT_PATH "${EXN_CROSS_ROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
