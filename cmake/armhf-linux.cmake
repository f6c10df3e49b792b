# SPDX-License-Identifier: Apache-2.0
# Cross toolchain for the Linux port on 32-bit ARM (armhf): Debian's gcc-arm-linux-gnueabihf
# (its glibc lives in /usr/arm-linux-gnueabihf) plus a sysroot with the third-party armhf
# libraries (mbedtls, expat) unpacked from their Debian packages by tools/cross-armhf - no
# multiarch installation on the build machine.
#
#   cmake -S . -B build/armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/armhf-linux.cmake \
#         -DEASD_ARMHF_SYSROOT=build/armhf/sysroot -DEASD_BUILD_TESTS=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

set(EASD_ARMHF_SYSROOT "" CACHE PATH "Directory the armhf library packages are unpacked into")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EASD_ARMHF_SYSROOT)

find_program(CMAKE_C_COMPILER NAMES arm-linux-gnueabihf-gcc REQUIRED)
set(CMAKE_FIND_ROOT_PATH "${EASD_ARMHF_SYSROOT}" /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config must look into the sysroot only, never at the build machine's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "${EASD_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EASD_ARMHF_SYSROOT}")
