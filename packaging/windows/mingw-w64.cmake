# Cross-compiles cbcs for 64-bit Windows with Debian's MinGW-w64 (POSIX threads).
# CBCS_WINDOWS_SYSROOT (a cache variable or the environment) is the sysroot
# packaging/windows/build-sysroot.sh built; CAF's own build uses this file without one.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(triplet x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${triplet}-gcc-posix)
set(CMAKE_CXX_COMPILER ${triplet}-g++-posix)
set(CMAKE_AR ${triplet}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${triplet}-gcc-ranlib-posix CACHE FILEPATH "")
set(CMAKE_RC_COMPILER ${triplet}-windres)
set(CMAKE_MC_COMPILER ${triplet}-windmc)

if(NOT CBCS_WINDOWS_SYSROOT AND DEFINED ENV{CBCS_WINDOWS_SYSROOT})
  set(CBCS_WINDOWS_SYSROOT $ENV{CBCS_WINDOWS_SYSROOT})
endif()
set(CBCS_WINDOWS_SYSROOT "${CBCS_WINDOWS_SYSROOT}" CACHE PATH "the Windows dependencies")
set(CMAKE_FIND_ROOT_PATH /usr/${triplet} ${CBCS_WINDOWS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# One self-contained exe: it imports only system DLLs.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
# ctest and doctest's test discovery run the Windows binaries through Wine.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/lib/wine/wine64)

# Debian's CMake config files name Linux libraries: the Windows build's own,
# which point into the sysroot.
foreach(pkg fmt spdlog doctest simdjson pugixml Boost)
  set(${pkg}_DIR ${CMAKE_CURRENT_LIST_DIR}/cmake/${pkg})
endforeach()
