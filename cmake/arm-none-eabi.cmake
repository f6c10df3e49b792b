# SPDX-License-Identifier: Apache-2.0
# Cross toolchain for the Cortex-M side of easd: Debian's gcc-arm-none-eabi + newlib-nano.
#
#   cmake -S . -B build/fw -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
#         [-DEASD_ARM_CPU=cortex-m4] [-DEASD_PRESET=minimal]
#
# EASD_ARM_CPU picks the core: cortex-m3 (default; QEMU's mps2-an385 board runs it) or
# cortex-m4 (the footprint report's reference core). Both use the soft-float ABI: the
# portable core has no floating point, so an FPU would change nothing but the multilib.
#
# Size matters more than speed on the devices easd targets, so every build type compiles
# with -Os; sections per function/object let the linker drop what a preset does not use.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(EASD_ARM_CPU "cortex-m3" CACHE STRING "Cortex-M core to compile for (cortex-m3, cortex-m4)")
set_property(CACHE EASD_ARM_CPU PROPERTY STRINGS cortex-m3 cortex-m4)
# try_compile re-reads this file in a scratch project; pass the choice along.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EASD_ARM_CPU)

# Kconfig: layer what bare metal cannot have yet over the chosen preset (see the file).
set(EASD_CONFIG_EXTRA "${CMAKE_CURRENT_LIST_DIR}/../configs/baremetal.conf" CACHE STRING "")

set(_easd_prefix arm-none-eabi-)
find_program(CMAKE_C_COMPILER NAMES ${_easd_prefix}gcc REQUIRED)
find_program(CMAKE_AR NAMES ${_easd_prefix}ar REQUIRED)
find_program(CMAKE_RANLIB NAMES ${_easd_prefix}ranlib REQUIRED)
find_program(CMAKE_OBJCOPY NAMES ${_easd_prefix}objcopy REQUIRED)
find_program(CMAKE_SIZE NAMES ${_easd_prefix}size REQUIRED)
find_program(CMAKE_NM NAMES ${_easd_prefix}nm REQUIRED)

# A bare-metal compiler cannot link a test program without a board's startup code and
# linker script; checking that the compiler compiles is enough.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_easd_arch "-mcpu=${EASD_ARM_CPU} -mthumb -mfloat-abi=soft")
# nano.specs also switches the include path to newlib-nano's configuration header.
set(CMAKE_C_FLAGS_INIT "${_easd_arch} -ffunction-sections -fdata-sections --specs=nano.specs")
set(CMAKE_ASM_FLAGS_INIT "${_easd_arch}")
# CMake repeats the compile flags (CPU, nano.specs) on the link line; gcc rejects a
# second --specs=nano.specs, so the linker flags add only what is link-specific.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")

# The top-level project defaults to RelWithDebInfo (-O2); on the target every build type
# is -Os. CMake appends its own -O level to the *_INIT values, so set the cache entries
# themselves (an explicit -DCMAKE_C_FLAGS_<TYPE>=... still wins).
set(CMAKE_C_FLAGS_DEBUG "-Os -g" CACHE STRING "")
set(CMAKE_C_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "")
set(CMAKE_C_FLAGS_RELWITHDEBINFO "-Os -g -DNDEBUG" CACHE STRING "")
set(CMAKE_C_FLAGS_MINSIZEREL "-Os -DNDEBUG" CACHE STRING "")

# Headers and libraries come from the toolchain's sysroot only; programs (python3 for
# Kconfig, qemu) from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
