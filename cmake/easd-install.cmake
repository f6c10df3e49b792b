# SPDX-License-Identifier: Apache-2.0
# `cmake --install` for applications: headers (eas/, hal/, easd_linux.h, easd_oauth.h), the
# core, the Linux port and its OAuth libraries, the generated configuration (include/eas/eas_autoconf.h), a CMake
# package (find_package(easd CONFIG): easd::core, easd::linux) and pkg-config files
# (easd.pc, easd-linux.pc). Included by the top-level CMakeLists.txt after the targets.
include(CMakePackageConfigHelpers)

set(EASD_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/easd")
set(EASD_INSTALL_PCDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/eas/include/eas" "${PROJECT_SOURCE_DIR}/hal/include/hal"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" FILES_MATCHING PATTERN "*.h")
# Next to eas_config_defaults.h, which includes it when EAS_CONFIG_AUTOCONF is defined.
install(FILES "${EASD_GEN_DIR}/eas_autoconf.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/eas")
# The resolved Kconfig of this build, for reference (and `genconfig.py --config` of a rebuild).
install(FILES "${EASD_GEN_DIR}/.config" DESTINATION "${CMAKE_INSTALL_DATADIR}/easd"
        RENAME easd.config)

set(_easd_install_targets eas)
set(EASD_PACKAGE_HAS_LINUX FALSE)
if(TARGET easd_port_linux)
  list(APPEND _easd_install_targets easd_port_linux)
  set(EASD_PACKAGE_HAS_LINUX TRUE)
  install(FILES "${PROJECT_SOURCE_DIR}/ports/linux/include/easd_linux.h"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# OAuth 2.0 for devices (Linux port, needs jansson): a component of its own.
set(EASD_PACKAGE_HAS_OAUTH FALSE)
if(TARGET easd_oauth)
  list(APPEND _easd_install_targets easd_oauth)
  set(EASD_PACKAGE_HAS_OAUTH TRUE)
  install(FILES "${PROJECT_SOURCE_DIR}/ports/linux/include/easd_oauth.h"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# A sanitized library needs the sanitizer runtime in every program that links it.
set(EASD_SANITIZE_VALUE OFF)
set(EASD_PC_SANITIZE "")
if(EASD_SANITIZE)
  set(EASD_SANITIZE_VALUE ON)
  set(EASD_PC_SANITIZE "-fsanitize=address,undefined")
  target_link_options(eas INTERFACE "$<INSTALL_INTERFACE:-fsanitize=address,undefined>")
endif()

install(TARGETS ${_easd_install_targets} EXPORT easdTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(EXPORT easdTargets NAMESPACE easd:: DESTINATION "${EASD_INSTALL_CMAKEDIR}")

# Every CONFIG_* of eas_autoconf.h as EASD_CONFIG_* in the package.
set(EASD_PACKAGE_CONFIG_VARS "")
file(STRINGS "${EASD_GEN_DIR}/eas_autoconf.h" _easd_pkg_defs REGEX "^#define CONFIG_")
foreach(_line IN LISTS _easd_pkg_defs)
  if(_line MATCHES "^#define CONFIG_([A-Z0-9_]+) (.*)$")
    string(REPLACE "\"" "\\\"" _v "${CMAKE_MATCH_2}")
    string(APPEND EASD_PACKAGE_CONFIG_VARS "set(EASD_CONFIG_${CMAKE_MATCH_1} \"${_v}\")\n")
  endif()
endforeach()

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/easdConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/package/easdConfig.cmake" INSTALL_DESTINATION "${EASD_INSTALL_CMAKEDIR}")
# 0.x: a minor version may change the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/package/easdConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/package/easdConfig.cmake"
              "${PROJECT_BINARY_DIR}/package/easdConfigVersion.cmake"
        DESTINATION "${EASD_INSTALL_CMAKEDIR}")

# pkg-config files find the prefix relative to themselves (${pcfiledir}), so a package
# installed with `cmake --install --prefix DIR` works from DIR.
file(RELATIVE_PATH EASD_PC_UP "/p/${EASD_INSTALL_PCDIR}" "/p")
string(REGEX REPLACE "/$" "" EASD_PC_UP "${EASD_PC_UP}")
set(EASD_PC_CORE_REQUIRES "")
if(CONFIG_EAS_AUTODISCOVER)
  set(EASD_PC_CORE_REQUIRES "expat")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/easd.pc.in" "${PROJECT_BINARY_DIR}/package/easd.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/easd.pc" DESTINATION "${EASD_INSTALL_PCDIR}")
if(EASD_PACKAGE_HAS_LINUX)
  configure_file("${CMAKE_CURRENT_LIST_DIR}/easd-linux.pc.in"
                 "${PROJECT_BINARY_DIR}/package/easd-linux.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/package/easd-linux.pc" DESTINATION "${EASD_INSTALL_PCDIR}")
endif()
if(EASD_PACKAGE_HAS_OAUTH)
  configure_file("${CMAKE_CURRENT_LIST_DIR}/easd-oauth.pc.in"
                 "${PROJECT_BINARY_DIR}/package/easd-oauth.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/package/easd-oauth.pc" DESTINATION "${EASD_INSTALL_PCDIR}")
endif()
