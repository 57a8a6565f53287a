# Install-time part of SecstatInstall.cmake: the systemd unit, written
# for the prefix actually installed to, and the default configuration,
# installed only when the host has none (an upgrade never overwrites the
# administrator's file). Runs inside cmake_install.cmake, where
# CMAKE_INSTALL_PREFIX is the final prefix; file(INSTALL) adds DESTDIR.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir "/etc") # as GNUInstallDirs does for /usr
else()
  set(sysconfdir "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(SECSTAT_SBINDIR "${CMAKE_INSTALL_PREFIX}/${SECSTAT_SBINDIR_REL}")
set(SECSTAT_CONFIG "${sysconfdir}/secstat/secstatd.conf")

file(MAKE_DIRECTORY "${SECSTAT_DIST_BUILD}")
configure_file("${SECSTAT_DIST_DIR}/systemd/secstatd.service.in"
  "${SECSTAT_DIST_BUILD}/secstatd.service" @ONLY)
file(INSTALL "${SECSTAT_DIST_BUILD}/secstatd.service"
  DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")

if(NOT EXISTS "$ENV{DESTDIR}${SECSTAT_CONFIG}")
  file(INSTALL "${SECSTAT_DIST_DIR}/secstatd.conf"
    DESTINATION "${sysconfdir}/secstat")
else()
  message(STATUS "Kept: $ENV{DESTDIR}${SECSTAT_CONFIG}")
endif()
