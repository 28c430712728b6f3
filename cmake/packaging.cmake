# What `make install` puts where, and the .deb CPack builds from it (cpack -G DEB in the
# build directory): the binary, the systemd unit, a default config marked as a conffile,
# and the docs. Runtime dependencies are computed from the binary by dpkg-shlibdeps.
include(GNUInstallDirs)

install(TARGETS covet-sidecar RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Absolute: Debian 12 keeps units and configuration here whatever the install prefix.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/systemd/covet-sidecar.service
        DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/deb/config.yaml DESTINATION /etc/covet-sidecar)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/config/examples/config.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/runbooks DESTINATION ${CMAKE_INSTALL_DOCDIR}
        OPTIONAL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME covet-sidecar)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "health endpoints, metrics and traces beside an application")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "One small agent that runs beside an application: real probes against its PostgreSQL,\n\
Redis, HTTP endpoints, disk and memory; Kubernetes-style liveness, readiness and startup\n\
endpoints from their results; the application's Prometheus metrics re-exported beside\n\
its own; OpenTelemetry spans received over OTLP and forwarded to Jaeger.")
set(CPACK_PACKAGE_CONTACT "covet-sidecar maintainers <covet-sidecar@lists.covet.dev>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/covet/covet-sidecar")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for the system user; init-system-helpers for deb-systemd-helper.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/deb/conffiles ${CMAKE_SOURCE_DIR}/packaging/deb/postinst
    ${CMAKE_SOURCE_DIR}/packaging/deb/prerm ${CMAKE_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
