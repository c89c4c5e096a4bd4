# eventapi: `make run` serves the API on http://127.0.0.1:8000, `make test`
# runs every test, on SQLite and then again on PostgreSQL (a throwaway
# cluster, scripts/with-postgres). Both install what is missing first
# (Debian, as root): `make build` and `make run` only what building and
# running need (scripts/install-deps), `make test`, `make sanitize` and
# `make fuzz` the test tools as well (scripts/install-deps --test).
# `make fuzz` runs every libFuzzer target of fuzz/ for FUZZ_SECONDS (60)
# each and fails on any crash, leak or timeout (docs/fuzzing.md).

BUILD    ?= build
SANITIZE ?= build-sanitize
FUZZ     ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON    ?= meson
NINJA    ?= ninja

.PHONY: all deps test-deps build run test sanitize fuzz clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(SANITIZE)/build.ninja:
	$(MESON) setup $(SANITIZE) --buildtype=debug -Dtests=enabled \
	  -Db_sanitize=address,undefined -Db_lundef=false

# The fuzz targets: clang with libFuzzer, AddressSanitizer and UBSan.
$(FUZZ)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ) --buildtype=debugoptimized -Dtests=disabled -Dfuzz=enabled \
	  -Db_sanitize=address,undefined -Db_lundef=false

# A build folder set up by `make run` before Criterion was installed has no
# tests: turn them on (meson then looks for Criterion again).
enable-tests = @$(MESON) introspect --buildoptions $(1) | python3 -c 'import json, sys; \
	  sys.exit(not any(o["name"] == "tests" and o["value"] == "enabled" for o in json.load(sys.stdin)))' \
	  || $(MESON) configure $(1) -Dtests=enabled

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

# A .env with a fresh random SECRET_KEY, written once and never overwritten.
.env:
	@umask 077 && printf 'SECRET_KEY=%s\n' "$$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_')" > .env
	@echo "wrote .env with a new random SECRET_KEY"

run: build .env
	$(BUILD)/eventapi migrate
	$(BUILD)/eventapi serve

# Both backends run even when the first fails; the target fails if either did.
test: test-deps $(BUILD)/build.ninja
	$(call enable-tests,$(BUILD))
	$(NINJA) -C $(BUILD)
	@status=0; \
	scripts/run-tests $(BUILD) || status=1; \
	scripts/with-postgres scripts/run-tests $(BUILD) || status=1; \
	exit $$status

sanitize: test-deps $(SANITIZE)/build.ninja
	$(call enable-tests,$(SANITIZE))
	$(NINJA) -C $(SANITIZE)
	@status=0; \
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; \
	scripts/run-tests $(SANITIZE) || status=1; \
	scripts/with-postgres scripts/run-tests $(SANITIZE) || status=1; \
	exit $$status

fuzz: test-deps $(FUZZ)/build.ninja
	$(NINJA) -C $(FUZZ)
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz run $(FUZZ)

clean:
	rm -rf $(BUILD) $(SANITIZE) $(FUZZ)
