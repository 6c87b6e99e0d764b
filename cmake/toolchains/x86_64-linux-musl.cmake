# Linux x86_64 with musl libc, as in musllinux wheels: Debian's musl-tools (musl-gcc wraps the
# system gcc with musl's headers and libraries).  The executables run on the build machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
find_program(CMAKE_C_COMPILER NAMES musl-gcc REQUIRED)
