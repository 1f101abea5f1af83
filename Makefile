# One entry point for the whole test suite: the Python reference's own tests, the Java reactor
# (JDK 25), the CUDA kernels' CPU tests and the TensorRT plugin's tests. TENSORRT_ROOT=DIR
# (include/ + lib/ of TensorRT 10 or 11) adds the plugin's TensorRT layer and its tests against the
# real libnvinfer; without it they are skipped, saying so.
SHELL := /bin/bash
TENSORRT_ROOT ?=

.PHONY: test test-fast setup python-env test-data browser python-test java-test java-test-fast format-check format kernels-test trt-plugins-test clean

test: format-check python-test java-test kernels-test trt-plugins-test

# The inner loop: the Java reactor without the tests tagged @Tag("slow") (each says why it is
# slow). `make test` runs them all.
test-fast: java-test-fast

# Set-up, done by `make test` itself and quick the second time: the project-local Python
# environment build/venv with the reference package sketchrt_ref installed from this checkout,
# the stories260K test data (when ../shared has it) and the report test's browser (the one
# system-wide install, announced; SKETCHRT_NO_SYSTEM_INSTALL=1 skips that test instead).
# Every recipe, and the Java tests' python3, runs the venv's interpreter.
export PATH := $(CURDIR)/build/venv/bin:$(PATH)
unexport VIRTUAL_ENV PYTHONHOME

setup: python-env test-data browser

python-env:
	@.ci/python-deps.sh

test-data: python-env
	@.ci/test-data.sh

browser:
	@.ci/browser.sh

python-test: python-env
	python3 -m pytest -q validation/reference

java-test: setup
	source .ci/java-home.sh && mvn -B -ntp verify; status=$$?; python3 .ci/list-skipped.py; exit $$status

java-test-fast: setup
	source .ci/java-home.sh && mvn -B -ntp verify -DexcludedGroups=slow; status=$$?; python3 .ci/list-skipped.py; \
	  echo "left out: the tests tagged @Tag(\"slow\") (make test runs them)"; exit $$status

# The C, C++ and CUDA sources against the root .clang-format (clang-format >= 14; installed or
# skipped as .ci/clang-format.sh says). `make format` rewrites them to it.
format-check:
	@.ci/clang-format.sh

format:
	@.ci/clang-format.sh fix

# The CUDA kernels' CPU tests, then the native CPU kernel's (kernels/cpu: every path this CPU has,
# against float64).
kernels-test:
	cmake -S kernels/cpu -B kernels/cpu/build -DCMAKE_BUILD_TYPE=Release --log-level=WARNING && \
	cmake --build kernels/cpu/build -j2 && \
	ctest --test-dir kernels/cpu/build --output-on-failure
	@if [[ -f kernels/CMakeLists.txt ]]; then \
	  cmake -S kernels -B kernels/build -DCMAKE_BUILD_TYPE=Release && \
	  cmake --build kernels/build -j2 && \
	  ctest --test-dir kernels/build --output-on-failure; \
	else echo "kernels: no CMake project yet"; fi

trt-plugins-test:
	cmake -S trt-plugins -B trt-plugins/build -DCMAKE_BUILD_TYPE=Release -DTENSORRT_ROOT="$(TENSORRT_ROOT)" && \
	cmake --build trt-plugins/build -j2 && \
	ctest --test-dir trt-plugins/build --output-on-failure

clean:
	source .ci/java-home.sh && mvn -B -q clean
	rm -rf kernels/build kernels/cpu/build trt-plugins/build  # build/venv and build/stories260K stay: rm -rf build
