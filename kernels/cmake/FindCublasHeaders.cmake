# Finds cuBLAS headers (the library is opened at run time, see src/training_time_path.cpp).
# Sets SKETCHRT_CUBLAS_INCLUDE_DIR and, when known, SKETCHRT_CUBLAS_LIBDIR. Looks in order at
# SKETCHRT_CUBLAS_ROOT, the CUDA toolkit, Python's nvidia-cublas package, and a local
# nvidia_cublas wheel (whose headers are extracted into the build tree).
set(SKETCHRT_CUBLAS_INCLUDE_DIR "")
set(SKETCHRT_CUBLAS_LIBDIR "")

function(_sketchrt_use_root root)
  if(NOT SKETCHRT_CUBLAS_INCLUDE_DIR AND EXISTS "${root}/include/cublas_v2.h")
    set(SKETCHRT_CUBLAS_INCLUDE_DIR "${root}/include" PARENT_SCOPE)
    file(GLOB _libs "${root}/lib/libcublas.so*" "${root}/lib64/libcublas.so*")
    if(_libs)
      list(GET _libs 0 _lib)
      get_filename_component(_dir "${_lib}" DIRECTORY)
      set(SKETCHRT_CUBLAS_LIBDIR "${_dir}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

if(SKETCHRT_CUBLAS_ROOT)
  _sketchrt_use_root("${SKETCHRT_CUBLAS_ROOT}")
endif()
foreach(_inc IN LISTS CUDAToolkit_INCLUDE_DIRS)
  if(NOT SKETCHRT_CUBLAS_INCLUDE_DIR AND EXISTS "${_inc}/cublas_v2.h")
    set(SKETCHRT_CUBLAS_INCLUDE_DIR "${_inc}")
    if(CUDA_cublas_LIBRARY)
      get_filename_component(SKETCHRT_CUBLAS_LIBDIR "${CUDA_cublas_LIBRARY}" DIRECTORY)
    endif()
  endif()
endforeach()

if(NOT SKETCHRT_CUBLAS_INCLUDE_DIR)
  find_program(_sketchrt_python NAMES python3 python)
  if(_sketchrt_python)
    execute_process(
      COMMAND "${_sketchrt_python}" -c
        "import glob, os, nvidia\nfor p in nvidia.__path__:\n    for h in glob.glob(os.path.join(p, '*', 'include', 'cublas_v2.h')):\n        print(os.path.dirname(os.path.dirname(h)))"
      OUTPUT_VARIABLE _roots OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND _roots)
      string(REPLACE "\n" ";" _roots "${_roots}")
      foreach(_root IN LISTS _roots)
        _sketchrt_use_root("${_root}")
      endforeach()
    endif()
  endif()
endif()

if(NOT SKETCHRT_CUBLAS_INCLUDE_DIR)
  file(GLOB _wheels /opt/pypi-more/files/nvidia_cublas-*.whl /opt/wheels/nvidia_cublas-*.whl)
  if(_wheels)
    list(GET _wheels 0 _wheel)
    set(_dest "${CMAKE_BINARY_DIR}/_cublas_headers")
    file(ARCHIVE_EXTRACT INPUT "${_wheel}" DESTINATION "${_dest}" PATTERNS "nvidia/*/include/cublas*.h")
    file(GLOB _headers "${_dest}/nvidia/*/include/cublas_v2.h")
    if(_headers)
      list(GET _headers 0 _header)
      get_filename_component(SKETCHRT_CUBLAS_INCLUDE_DIR "${_header}" DIRECTORY)
      message(STATUS "sketchrt kernels: cuBLAS headers extracted from ${_wheel}")
    endif()
  endif()
endif()

if(SKETCHRT_CUBLAS_INCLUDE_DIR)
  message(STATUS "sketchrt kernels: cuBLAS headers in ${SKETCHRT_CUBLAS_INCLUDE_DIR}; "
                 "library dir ${SKETCHRT_CUBLAS_LIBDIR} (else the loader's search path)")
else()
  message(STATUS "sketchrt kernels: cuBLAS headers NOT found: training-time path and cuBLAS baselines "
                 "are compiled out (set SKETCHRT_CUBLAS_ROOT to enable)")
endif()
