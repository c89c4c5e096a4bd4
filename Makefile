# eventapi: `make run` serves the API on http://127.0.0.1:8000, `make test`
# runs every test. Both install what is missing first (Debian, as root).

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

test: build
	scripts/run-tests $(BUILD)

sanitize: deps $(SANITIZE)/build.ninja
	$(NINJA) -C $(SANITIZE)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  scripts/run-tests $(SANITIZE)

clean:
	rm -rf $(BUILD) $(SANITIZE)
