# One entry point for the whole test suite: the Java reactor (JDK 25) and the CUDA kernels' CPU tests.
SHELL := /bin/bash

.PHONY: test java-test kernels-test clean

test: java-test kernels-test

java-test:
	source .ci/java-home.sh && mvn -B -ntp verify; status=$$?; python3 .ci/list-skipped.py; exit $$status

kernels-test:
	@if [[ -f kernels/CMakeLists.txt ]]; then \
	  cmake -S kernels -B kernels/build -DCMAKE_BUILD_TYPE=Release && \
	  cmake --build kernels/build -j2 && \
	  ctest --test-dir kernels/build --output-on-failure; \
	else echo "kernels: no CMake project yet"; fi

clean:
	source .ci/java-home.sh && mvn -B -q clean
	rm -rf kernels/build
