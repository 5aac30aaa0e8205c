# SIKED_CUDA=EMULATE: the CUDA backend built without nvcc, to run on the CPU (emulate/README.md).
# Every src/cuda/*.cu and *.cuh is rewritten by emulate/rewrite.mjs (launches become calls, line
# numbers kept) into the build folder and compiled by the host compiler against the stub CUDA
# headers of emulate/include, with the fiber runtime and the cuBLAS stand-in of emulate/src.
# Included by CMakeLists.txt, which defines the addon target ${PROJECT_NAME}.
find_program(SIKED_NODE node REQUIRED)
set(SIKED_EMU_DIR ${CMAKE_SOURCE_DIR}/emulate)
set(SIKED_EMU_GEN ${CMAKE_BINARY_DIR}/emulated_cuda)

file(GLOB SIKED_EMU_INPUTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/cuda/*.cu ${CMAKE_SOURCE_DIR}/src/cuda/*.cuh)
set(SIKED_EMU_GENERATED)
foreach(input IN LISTS SIKED_EMU_INPUTS)
  get_filename_component(name ${input} NAME)
  string(REGEX REPLACE "\\.cu$" ".cpp" name ${name})  # headers keep their name for #include
  add_custom_command(OUTPUT ${SIKED_EMU_GEN}/${name}
    COMMAND ${SIKED_NODE} ${SIKED_EMU_DIR}/rewrite.mjs ${input} ${SIKED_EMU_GEN}/${name}
    DEPENDS ${input} ${SIKED_EMU_DIR}/rewrite.mjs
    COMMENT "siked CUDA emulation: rewriting ${name}"
    VERBATIM)
  list(APPEND SIKED_EMU_GENERATED ${SIKED_EMU_GEN}/${name})
endforeach()

file(GLOB SIKED_EMU_RUNTIME CONFIGURE_DEPENDS ${SIKED_EMU_DIR}/src/*.cpp)
# OBJECT, not STATIC: nothing references the cuBLAS stand-in at link time (blas.cu finds it with
# dlsym), and a static archive would drop it.
add_library(siked_cuda_emulated OBJECT ${SIKED_EMU_GENERATED} ${SIKED_EMU_RUNTIME})
# The rewritten headers come first, so `#include "common.cuh"` finds the rewritten one.
target_include_directories(siked_cuda_emulated BEFORE PRIVATE
  ${SIKED_EMU_DIR}/include ${SIKED_EMU_GEN} ${CMAKE_SOURCE_DIR}/src/cuda ${CMAKE_SOURCE_DIR}/src/cpp)
target_compile_definitions(siked_cuda_emulated PRIVATE SIKED_CUDA_EMULATE=1)
# -fvisibility=hidden: calls inside the runtime (one per shuffle and barrier) then bind locally,
# with no PLT hop; only the cuBLAS stand-in is exported (for blas.cu's dlsym).
# -Wno-subobject-linkage: the #line directives make GCC take the kernels for header code, where
# it warns about anonymous-namespace types that are fine in a .cu file. No sanitizer here even
# under SIKED_SANITIZE: it cannot follow the fibers' stack switches.
# -fno-strict-aliasing: kernels reinterpret bf16 tiles as uint4 for 16-byte copies, as CUDA code
# does; nvcc honours that, so the emulation must too.
target_compile_options(siked_cuda_emulated PRIVATE -O2 -fno-strict-aliasing -fvisibility=hidden -Wall -Wno-subobject-linkage)

target_link_libraries(${PROJECT_NAME} PRIVATE siked_cuda_emulated pthread dl)
target_include_directories(${PROJECT_NAME} BEFORE PRIVATE ${SIKED_EMU_DIR}/include)
target_compile_definitions(${PROJECT_NAME} PRIVATE SIKED_WITH_CUDA=1 SIKED_CUDA_EMULATE=1)
message(STATUS "siked: CUDA backend EMULATED on the CPU (no nvcc used)")
