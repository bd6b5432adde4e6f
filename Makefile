# Thin front over meson. `make test` and `make run` install missing
# dependencies themselves (see .ci/deps.sh).
BUILD ?= build
MESON ?= meson
JOBS ?= 2
SOURCES = $(shell git ls-files '*.cpp' '*.h' 2>/dev/null || find gst-relais storage relais-server tests bench -name '*.cpp' -o -name '*.h')

.PHONY: deps build test bench coverage fuzz fmt lint run profile clean fresh-check

deps:
	@bash .ci/deps.sh

$(BUILD)/build.ninja:
	@bash .ci/deps.sh
	$(MESON) setup $(BUILD)

build: $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD) -j $(JOBS)

test: deps build
	$(MESON) test -C $(BUILD) --num-processes $(JOBS) --print-errorlogs

bench: build
	bash bench/run.sh $(BUILD)

# Coverage uses its own build directory so the normal build stays unprofiled.
COVERAGE_BUILD ?= build-coverage
coverage: deps
	test -f $(COVERAGE_BUILD)/build.ninja || $(MESON) setup $(COVERAGE_BUILD) -Db_coverage=true -Dbench=disabled
	$(MESON) compile -C $(COVERAGE_BUILD) -j $(JOBS)
	$(MESON) test -C $(COVERAGE_BUILD) --num-processes $(JOBS) --print-errorlogs
	mkdir -p coverage
	gcovr -r . $(COVERAGE_BUILD) --filter gst-relais/ --filter storage/ --filter relais-server/ \
	  --html-details coverage/index.html --print-summary
	@echo "coverage report: coverage/index.html"

# libFuzzer on the Redis entry decoding, in its own clang build, for
# FUZZ_SECONDS; new inputs go to $(FUZZ_BUILD)/corpus, the seeds stay in the tree.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	test -f $(FUZZ_BUILD)/build.ninja || CC=clang CXX=clang++ $(MESON) setup $(FUZZ_BUILD) \
	  -Dfuzz=enabled -Dtests=disabled -Dbench=disabled -Dserver=disabled -Ds3=disabled
	$(MESON) compile -C $(FUZZ_BUILD) -j $(JOBS) fuzz-redis-entry
	mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/tests/fuzz/fuzz-redis-entry -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus tests/fuzz/corpus/redis_entry

fmt:
	clang-format -i $(SOURCES)

lint: $(BUILD)/build.ninja
	clang-format --dry-run -Werror $(SOURCES)
	cppcheck --quiet --error-exitcode=1 --std=c++20 --language=c++ \
	  --enable=warning,performance,portability --inline-suppr \
	  --suppress=missingIncludeSystem --suppress=unknownMacro \
	  -I storage -I gst-relais -I $(BUILD) gst-relais storage relais-server

run: deps build
	bash examples/run-demo.sh $(BUILD)

profile: build
	bash bench/profile.sh $(BUILD)

# A bare Debian 12 (debootstrap) with only git and make: make test and make run
# there, as a new user would. Needs root; slow; not part of CI.
fresh-check:
	bash .ci/fresh-check.sh

clean:
	rm -rf $(BUILD) $(COVERAGE_BUILD) $(FUZZ_BUILD) coverage
