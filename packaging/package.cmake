# The Debian package: `cpack -G DEB` in the build tree (./build.sh package).
# /usr/bin/mozaiek, /etc/mozaiek/mozaiek.yaml (a conffile: the shipped
# config with the state in /var/lib/mozaiek and the pseudonym key in
# /etc/mozaiek/pseudonym.key), the systemd unit and the README. postinst
# makes the system user `mozaiek`. Included by the root CMakeLists.txt.

install(TARGETS mozaiek RUNTIME DESTINATION bin)
# cpack (and `ninja install`) package what is built and do not build `all`
# first: the package test runs cpack in this build tree after the build.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# The packaged config: the shipped one, pointed at the unit's directories.
file(READ ${CMAKE_CURRENT_SOURCE_DIR}/config/mozaiek.yaml MOZAIEK_PACKAGED_CONFIG)
foreach(pair
    "state_dir: ./mozaiek-state|state_dir: /var/lib/mozaiek   # the unit's StateDirectory"
    "  # `mozaiek demo` falls back to a well-known demo key.|  # `mozaiek demo` falls back to a well-known demo key.\n  # The package's: made by the operator (packaging/README.md), mode 0600,\n  # owned by mozaiek: `mozaiek run` refuses one open to group or others.\n  pseudonym_key_file: pseudonym.key")
  string(REPLACE "|" ";" parts "${pair}")
  list(GET parts 0 from)
  list(GET parts 1 to)
  string(FIND "${MOZAIEK_PACKAGED_CONFIG}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "packaging/package.cmake: config/mozaiek.yaml no longer holds '${from}'")
  endif()
  string(REPLACE "${from}" "${to}" MOZAIEK_PACKAGED_CONFIG "${MOZAIEK_PACKAGED_CONFIG}")
endforeach()
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/package/mozaiek.yaml CONTENT "${MOZAIEK_PACKAGED_CONFIG}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_SOURCE_DIR}/config/mozaiek.yaml)

install(FILES ${CMAKE_BINARY_DIR}/package/mozaiek.yaml DESTINATION /etc/mozaiek)
install(FILES packaging/mozaiek.service DESTINATION /lib/systemd/system)
install(FILES README.md DESTINATION share/doc/mozaiek)
install(FILES packaging/README.md DESTINATION share/doc/mozaiek RENAME README.packaging.md)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mozaiek)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "streaming analytics for the Dutch chain against human trafficking")
set(CPACK_PACKAGE_CONTACT "mozaiek maintainers <mozaiek@example.nl>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
# Runtime libraries from the binary's own links (dpkg-shlibdeps); adduser
# for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# CPack marks no conffile by itself: the config is one (dpkg keeps local edits).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_SOURCE_DIR}/packaging/postinst
                                       ${CMAKE_CURRENT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
