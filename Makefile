# eventapi: `make run` serves the API on http://127.0.0.1:8000, `make test`
# runs every test, on SQLite and then again on PostgreSQL (a throwaway
# cluster, scripts/with-postgres). Both install what is missing first
# (Debian, as root).

BUILD    ?= build
SANITIZE ?= build-sanitize
MESON    ?= meson
NINJA    ?= ninja

.PHONY: all deps build run test sanitize clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(SANITIZE)/build.ninja:
	$(MESON) setup $(SANITIZE) --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false

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
test: build
	@status=0; \
	scripts/run-tests $(BUILD) || status=1; \
	scripts/with-postgres scripts/run-tests $(BUILD) || status=1; \
	exit $$status

sanitize: deps $(SANITIZE)/build.ninja
	$(NINJA) -C $(SANITIZE)
	@status=0; \
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; \
	scripts/run-tests $(SANITIZE) || status=1; \
	scripts/with-postgres scripts/run-tests $(SANITIZE) || status=1; \
	exit $$status

clean:
	rm -rf $(BUILD) $(SANITIZE)
