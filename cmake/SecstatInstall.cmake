# What `cmake --install` puts where. Paths below are relative to the
# install prefix (GNUInstallDirs); README.md, "Installing", lists them.
#   sbin/secstatd, bin/secstat
#   LIBDIR/libsecstat.so.X.Y.Z (+ .so.X, .so), LIBDIR/libsecstat.a
#   include/secstat/{secstat,fwpmu,winerror}.h, include/secstat/v1/*.pb-c.h
#   share/secstat/proto/secstat/v1/*.proto (import root share/secstat/proto)
#   LIBDIR/pkgconfig/secstat.pc, LIBDIR/cmake/secstat/secstatConfig*.cmake
#   share/man/man{1,3,5,8}/, share/bash-completion/completions/secstat,
#   share/doc/secstat/examples/secstatd.conf,
#   lib/systemd/system/secstatd.service, lib/sysusers.d/secstat.conf
#   SYSCONFDIR/secstat/secstatd.conf (only when none exists yet)
include(CMakePackageConfigHelpers)

get_target_property(SECSTAT_SOVERSION secstat SOVERSION)

# The installed static archive carries the data model (the generated
# protobuf-c code and the walker) besides the client objects, so that
# linking it needs only nng and protobuf-c. The in-tree secstat_static
# stays as it is: the tree's own programs link secstat_model beside it.
add_library(secstat_archive STATIC $<TARGET_OBJECTS:secstat_client_objs>
                                   $<TARGET_OBJECTS:secstat_model>)
set_target_properties(secstat_archive PROPERTIES
  OUTPUT_NAME secstat
  ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/install-archive)

install(TARGETS secstat LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS secstat_archive ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS secstat_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES
  ${PROJECT_SOURCE_DIR}/client/include/secstat/secstat.h
  ${PROJECT_SOURCE_DIR}/client/include/secstat/fwpmu.h
  ${PROJECT_SOURCE_DIR}/client/include/secstat/winerror.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/secstat)
install(FILES ${SECSTAT_GEN_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/secstat/v1)
install(FILES ${SECSTAT_PROTO_FILES}
  DESTINATION ${CMAKE_INSTALL_DATADIR}/secstat/proto/secstat/v1)

# pkg-config: relative to the .pc file's own directory.
file(RELATIVE_PATH SECSTAT_PC_TO_PREFIX
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" SECSTAT_PC_TO_PREFIX "${SECSTAT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/client/secstat.pc.in
  ${PROJECT_BINARY_DIR}/secstat.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/secstat.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: find_package(secstat) -> secstat::secstat.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/secstatConfig.cmake.in
  ${PROJECT_BINARY_DIR}/secstatConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/secstat
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/secstatConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/secstatConfig.cmake
  ${PROJECT_BINARY_DIR}/secstatConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/secstat)

# Man pages (roff, written by hand: man(7) macros), and one .so link page
# per function so that `man secstat_fleet_query` finds its group's page.
foreach(section 1 3 5 8)
  file(GLOB pages ${PROJECT_SOURCE_DIR}/docs/man/*.${section})
  install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
set(SECSTAT_MAN_LINKS
  # sessions
  secstat_session_options_init:secstat_session_open
  secstat_session_close:secstat_session_open
  secstat_session_url:secstat_session_open
  secstat_default_url:secstat_session_open
  # method calls
  secstat_reply_free:secstat_session_call
  secstat_ipsec_get_statistics0:secstat_session_call
  secstat_ipsec_get_statistics1:secstat_session_call
  secstat_ikeext_get_statistics0:secstat_session_call
  secstat_ikeext_get_statistics1:secstat_session_call
  secstat_iscsi_get_statistics:secstat_session_call
  secstat_get_host_info:secstat_session_call
  secstat_get_capabilities:secstat_session_call
  secstat_list_security_associations:secstat_session_call
  secstat_relay_get_hosts:secstat_session_call
  # status codes
  secstat_status_name:secstat_strerror
  secstat_version:secstat_strerror
  # fwpmu.h
  FwpmEngineOpen0:secstat_fwpmu
  FwpmEngineClose0:secstat_fwpmu
  IPsecGetStatistics0:secstat_fwpmu
  IPsecGetStatistics1:secstat_fwpmu
  IkeextGetStatistics0:secstat_fwpmu
  IkeextGetStatistics1:secstat_fwpmu
  FwpmTransactionBegin0:secstat_fwpmu
  FwpmTransactionCommit0:secstat_fwpmu
  FwpmTransactionAbort0:secstat_fwpmu
  # fleets and rates
  secstat_fleet_options_init:secstat_fleet_open
  secstat_fleet_open_file:secstat_fleet_open
  secstat_fleet_close:secstat_fleet_open
  secstat_fleet_count:secstat_fleet_open
  secstat_fleet_host:secstat_fleet_open
  secstat_fleet_query:secstat_fleet_open
  secstat_fleet_result_count:secstat_fleet_open
  secstat_fleet_result_ok:secstat_fleet_open
  secstat_fleet_result_status:secstat_fleet_open
  secstat_fleet_result_reply:secstat_fleet_open
  secstat_fleet_result_latency_us:secstat_fleet_open
  secstat_fleet_result_aggregate:secstat_fleet_open
  secstat_fleet_result_summary:secstat_fleet_open
  secstat_fleet_result_free:secstat_fleet_open
  secstat_rates_compute:secstat_fleet_open
  secstat_rates_compute_replies:secstat_fleet_open
  secstat_rates_fleet:secstat_fleet_open
  secstat_rates_host:secstat_fleet_open
  secstat_rates_free:secstat_fleet_open
  # streams
  secstat_subscribe_options_init:secstat_subscribe
  secstat_subscription_state:secstat_subscribe
  secstat_subscription_stats:secstat_subscribe
  secstat_subscription_close:secstat_subscribe)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/man-links)
foreach(link ${SECSTAT_MAN_LINKS})
  string(REPLACE ":" ";" pair "${link}")
  list(GET pair 0 alias)
  list(GET pair 1 target)
  file(WRITE ${PROJECT_BINARY_DIR}/man-links/${alias}.3 ".so man3/${target}.3\n")
  install(FILES ${PROJECT_BINARY_DIR}/man-links/${alias}.3
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/dist/bash-completion/secstat
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
# bash-completion loads a command's completion from a file of its name.
install(FILES ${PROJECT_SOURCE_DIR}/dist/bash-completion/secstat
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME secstatd)
install(FILES ${PROJECT_SOURCE_DIR}/dist/secstatd.conf
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/dist/sysusers.d/secstat.conf
  DESTINATION lib/sysusers.d)

# The unit and the default config name paths under the prefix chosen at
# install time (`cmake --install --prefix` included), so they are
# written then, not at configure time.
install(CODE "set(SECSTAT_DIST_DIR \"${PROJECT_SOURCE_DIR}/dist\")
set(SECSTAT_DIST_BUILD \"${PROJECT_BINARY_DIR}/dist\")
set(SECSTAT_SBINDIR_REL \"${CMAKE_INSTALL_SBINDIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/SecstatInstallDist.cmake)
