# candor_version: one version for every binary, the top-level project()'s,
# with the git commit it was built from. The commit is read at every build
# (not only at configure time), so a binary never names a stale commit;
# the generated source is rewritten only when its text changes, so an
# unchanged commit recompiles nothing. Where the tree is not a git checkout
# (a source tarball, a container build without .git), pass
# -DCANDOR_GIT_COMMIT=<sha>; else the commit reads "unknown".
set(CANDOR_GIT_COMMIT "" CACHE STRING
    "git commit to report when the source tree is not a git checkout")
set(_candor_version_dir ${CMAKE_BINARY_DIR}/generated/version)
set(_candor_version_args
  -DCANDOR_VERSION=${PROJECT_VERSION}
  -DCANDOR_GIT_COMMIT=${CANDOR_GIT_COMMIT}
  -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
  -DOUT_DIR=${_candor_version_dir})
# At configure time too, so the source exists before the first build.
execute_process(COMMAND ${CMAKE_COMMAND} ${_candor_version_args}
  -P ${CMAKE_CURRENT_LIST_DIR}/version_source.cmake)
add_custom_target(candor_version_source
  COMMAND ${CMAKE_COMMAND} ${_candor_version_args}
          -P ${CMAKE_CURRENT_LIST_DIR}/version_source.cmake
  BYPRODUCTS ${_candor_version_dir}/candor_version.cc
  COMMENT "candor version ${PROJECT_VERSION}: reading the git commit"
  VERBATIM)
add_library(candor_version STATIC ${_candor_version_dir}/candor_version.cc)
add_dependencies(candor_version candor_version_source)
target_include_directories(candor_version PUBLIC ${_candor_version_dir})
