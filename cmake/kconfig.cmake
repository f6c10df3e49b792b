# SPDX-License-Identifier: Apache-2.0
# Resolve the Kconfig configuration at configure time:
#   -DEASD_PRESET=defaults|minimal|full   picks configs/<preset>.conf
#   -DEASD_CONFIG=/path/to/fragment.conf  overrides the preset
# Produces ${EASD_GEN_DIR}/eas_autoconf.h and sets every CONFIG_* as a CMake variable.

set(EASD_PRESET "defaults" CACHE STRING "Kconfig preset from configs/ (defaults, minimal, full)")
set(EASD_CONFIG "" CACHE FILEPATH "Kconfig fragment; overrides EASD_PRESET")
set(EASD_CONFIG_EXTRA "" CACHE STRING
    "Fragments layered over the preset/config, in order (a toolchain file sets its target's)")

if(EASD_CONFIG)
  set(_easd_cfg "${EASD_CONFIG}")
else()
  set(_easd_cfg "${PROJECT_SOURCE_DIR}/configs/${EASD_PRESET}.conf")
endif()
set(_easd_cfg_args --config "${_easd_cfg}")
foreach(_f IN LISTS EASD_CONFIG_EXTRA)
  list(APPEND _easd_cfg "${_f}")
  list(APPEND _easd_cfg_args --config "${_f}")
endforeach()
foreach(_f IN LISTS _easd_cfg)
  if(NOT EXISTS "${_f}")
    message(FATAL_ERROR "easd: configuration fragment ${_f} not found")
  endif()
endforeach()

# Debian's kconfiglib belongs to Debian's interpreter; a python3 earlier on PATH may lack it.
find_program(EASD_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT EASD_PYTHON)
  find_program(EASD_PYTHON NAMES python3 REQUIRED)
endif()

set(EASD_GEN_DIR "${PROJECT_BINARY_DIR}/generated")
file(GLOB _easd_kconfig_files "${PROJECT_SOURCE_DIR}/Kconfig" "${PROJECT_SOURCE_DIR}/eas/Kconfig*")
set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${_easd_kconfig_files} "${_easd_cfg}" "${PROJECT_SOURCE_DIR}/tools/kconfig/genconfig.py")

execute_process(
  COMMAND "${EASD_PYTHON}" "${PROJECT_SOURCE_DIR}/tools/kconfig/genconfig.py"
          --kconfig "${PROJECT_SOURCE_DIR}/Kconfig" ${_easd_cfg_args}
          --header "${EASD_GEN_DIR}/eas_autoconf.h" --dotconfig "${EASD_GEN_DIR}/.config"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  RESULT_VARIABLE _easd_rc)
if(NOT _easd_rc EQUAL 0)
  message(FATAL_ERROR "easd: Kconfig generation failed for ${_easd_cfg}")
endif()

file(STRINGS "${EASD_GEN_DIR}/eas_autoconf.h" _easd_defs REGEX "^#define CONFIG_")
foreach(_line IN LISTS _easd_defs)
  if(_line MATCHES "^#define (CONFIG_[A-Z0-9_]+) (.*)$")
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
message(STATUS "easd: configuration ${_easd_cfg}")
