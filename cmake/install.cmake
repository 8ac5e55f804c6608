# Installs liblakelog.a, the public headers, a CMake package (find_package(lakelog) ->
# lakelog::lakelog) and a pkg-config file (lakelog.pc). Included by the top CMakeLists.
#
#   cmake --install build --prefix /tmp/lakelog-install
include(CMakePackageConfigHelpers)

set(LAKELOG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lakelog)

install(TARGETS lakelog EXPORT lakelogTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/lakelog
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT lakelogTargets NAMESPACE lakelog:: DESTINATION ${LAKELOG_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lakelogConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/lakelogConfig.cmake
                              INSTALL_DESTINATION ${LAKELOG_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lakelogConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lakelogConfig.cmake
              ${PROJECT_BINARY_DIR}/lakelogConfigVersion.cmake
        DESTINATION ${LAKELOG_CMAKE_DIR})

# lakelog.pc locates the prefix relative to itself (${pcfiledir}), so it stays right under
# `cmake --install --prefix <anywhere>`.
file(RELATIVE_PATH LAKELOG_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(${PROJECT_SOURCE_DIR}/cmake/lakelog.pc.in ${PROJECT_BINARY_DIR}/lakelog.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lakelog.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
