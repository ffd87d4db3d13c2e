# Finds scipy-openblas (PyPI `scipy-openblas32`: a current OpenBLAS with
# every symbol prefixed `scipy_`) through the pkg-config file the wheel
# ships. scripts/install-deps.sh installs it into .deps/scipy-openblas32
# (or $CANDOR_DEPS_DIR); -DCANDOR_SCIPY_OPENBLAS_DIR=<dir holding the
# scipy_openblas32 package> points elsewhere.
#
# Sets ScipyOpenBLAS_FOUND, ScipyOpenBLAS_LIBRARY (the shared library's
# full path, which candor loads at run time: server/index/cpu_blas.h) and
# ScipyOpenBLAS_VERSION.
find_package(PkgConfig QUIET)

set(_candor_deps_dir "${PROJECT_SOURCE_DIR}/.deps")
if(DEFINED ENV{CANDOR_DEPS_DIR})
  set(_candor_deps_dir "$ENV{CANDOR_DEPS_DIR}")
endif()
set(CANDOR_SCIPY_OPENBLAS_DIR "${_candor_deps_dir}/scipy-openblas32" CACHE PATH
    "Folder holding the scipy_openblas32 Python package (pip --target)")

set(_pc_dir "${CANDOR_SCIPY_OPENBLAS_DIR}/scipy_openblas32/lib/pkgconfig")
if(PkgConfig_FOUND AND EXISTS "${_pc_dir}/scipy-openblas.pc")
  set(_saved_pc_path "$ENV{PKG_CONFIG_PATH}")
  set(ENV{PKG_CONFIG_PATH} "${_pc_dir}:$ENV{PKG_CONFIG_PATH}")
  pkg_check_modules(_SCIPY_OPENBLAS QUIET scipy-openblas)
  if(_SCIPY_OPENBLAS_FOUND)
    pkg_get_variable(_scipy_openblas_libdir scipy-openblas libdir)
  endif()
  set(ENV{PKG_CONFIG_PATH} "${_saved_pc_path}")
  if(_scipy_openblas_libdir)
    find_library(ScipyOpenBLAS_LIBRARY NAMES scipy_openblas
                 PATHS "${_scipy_openblas_libdir}" NO_DEFAULT_PATH)
    set(ScipyOpenBLAS_VERSION "${_SCIPY_OPENBLAS_VERSION}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ScipyOpenBLAS
  REQUIRED_VARS ScipyOpenBLAS_LIBRARY VERSION_VAR ScipyOpenBLAS_VERSION)
