# esep — build, test, demo, benchmarks. The README's two commands are
# `make demo` and `make test`; both first run scripts/install-deps.sh, which
# is quick when everything is present.

CC       := mpicc
PKGS     := libzstd yaml-0.1 hdf5-openmpi libsodium libarchive sqlite3 libpq libmicrohttpd
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(sort $(wildcard src/base/*.c src/spec/*.c src/ingest/*.c src/engine/*.c src/archive/*.c src/publish/*.c src/cli/*.c))
LIB_OBJ  := $(SRC:src/%.c=build/release/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))

.PHONY: all deps test demo bench bench-ingest bench-run clean
all: bin/esep bin/gen-extracts

deps:
	@bash scripts/install-deps.sh

build/release/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

bin/esep: build/release/main.o $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The sanitized binary: the MPI and end-to-end tests run it.
build/asan/esep: build/asan/main.o $(ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/asan/unit-tests: $(UNIT_SRC) $(ASAN_OBJ) tests/unit/test.h
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -o $@ $(UNIT_SRC) $(ASAN_OBJ) $(PKG_LIBS)

build/asan/catalog-tests: tests/catalog/*.c tests/unit/test.c $(ASAN_OBJ) tests/unit/test.h
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

bin/gen-extracts: $(wildcard scripts/gen/*.c scripts/gen/*.h)
	@mkdir -p bin
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ scripts/gen/*.c -lzstd -lm

test: deps
	@$(MAKE) --no-print-directory all build/asan/esep build/asan/unit-tests build/asan/catalog-tests
	@bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# Every figure of issue 10 (scaling, MB/s per rank, run vs zstd -dc, peak
# memory, 130 forms) with medians of alternating runs, printed and as JSON.
# BENCH_PERSONS="2000000 20000000" for national scale; see scripts/bench.
bench: deps
	@$(MAKE) --no-print-directory all
	@python3 scripts/bench

bench-ingest: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench-ingest

bench-run: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench-run

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
