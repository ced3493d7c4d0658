/* The download service's request parsing (src/publish/request.h), on
 * values worked out by hand: the endpoint table, Range, If-None-Match,
 * Bearer tokens and header bytes. */
#include "publish/request.h"
#include "test.h"

static route_kind kind_of(const char *path) { return request_route(path, strlen(path)).kind; }

void suite_request(void) {
    TEST_CASE("request: the endpoint table") {
        route r = request_route("/v1/bundles/75/2026-Q3/signature", 32);
        EXPECT(r.kind == ROUTE_SIGNATURE && r.needs_region);
        EXPECT_EQ_STR(r.region, "75");
        EXPECT_EQ_STR(r.period, "2026-Q3");
        EXPECT(kind_of("/v1/bundles/00/2026") == ROUTE_BUNDLE);
        EXPECT(kind_of("/v1/catalog") == ROUTE_CATALOG && !request_route("/v1/catalog", 11).needs_region);
        EXPECT(kind_of("/v1/bundles/75") == ROUTE_NONE);
        EXPECT(kind_of("/v1/bundles/75/2026-10/other") == ROUTE_NONE);
        EXPECT(kind_of("/v2/catalog") == ROUTE_NONE);
        EXPECT(kind_of("/v1/bundles/7/2026-10") == ROUTE_BAD);
        EXPECT(kind_of("/v1/bundles/75/2026-13/signature") == ROUTE_BAD);
        EXPECT(kind_of("/v1/catalog/") == ROUTE_BAD && kind_of("/v1/../catalog") == ROUTE_BAD);
        EXPECT(kind_of("/v1/%63atalog") == ROUTE_BAD && kind_of("") == ROUTE_BAD);
        EXPECT(request_route("/v1/catalog\0x", 13).kind == ROUTE_BAD); /* the NUL is a byte like any other */
    }
    TEST_CASE("request: Range against a 1000-byte file") {
        uint64_t first = 0, len = 0;
        EXPECT_EQ_INT(request_range("bytes=0-99", 1000, &first, &len), 1);
        EXPECT(first == 0 && len == 100);
        EXPECT_EQ_INT(request_range("bytes=990-", 1000, &first, &len), 1);
        EXPECT(first == 990 && len == 10);
        EXPECT_EQ_INT(request_range("bytes=-1500", 1000, &first, &len), 1);
        EXPECT(first == 0 && len == 1000);
        EXPECT_EQ_INT(request_range("bytes=500-5000", 1000, &first, &len), 1);
        EXPECT(first == 500 && len == 500);
        EXPECT_EQ_INT(request_range("bytes=1000-", 1000, &first, &len), -1);
        EXPECT_EQ_INT(request_range("bytes=5-2", 1000, &first, &len), -1);
        EXPECT_EQ_INT(request_range("bytes=-0", 1000, &first, &len), -1);
        EXPECT_EQ_INT(request_range("bytes=x-1", 1000, &first, &len), -1);
        EXPECT_EQ_INT(request_range("bytes=0-1,5-6", 1000, &first, &len), 0);
        EXPECT_EQ_INT(request_range("items=0-1", 1000, &first, &len), 0);
        EXPECT_EQ_INT(request_range("bytes=99999999999999999999-", 1000, &first, &len), -1);
    }
    TEST_CASE("request: If-None-Match lists, weak tags, *") {
        EXPECT(request_none_match("\"ab\"", "\"ab\""));
        EXPECT(request_none_match("\"x\", W/\"ab\"", "\"ab\""));
        EXPECT(request_none_match(" * ", "\"ab\""));
        EXPECT(!request_none_match("\"abc\"", "\"ab\"") && !request_none_match("", "\"ab\""));
    }
    TEST_CASE("request: Bearer tokens and header bytes") {
        const char *tok;
        size_t n;
        const char *v = "bearer   0123abcd  ";
        EXPECT_EQ_INT(request_bearer(v, strlen(v), &tok, &n), 1);
        EXPECT(n == 8 && !memcmp(tok, "0123abcd", 8));
        EXPECT_EQ_INT(request_bearer("Basic abc", 9, &tok, &n), 0);
        EXPECT_EQ_INT(request_bearer("Bearer    ", 10, &tok, &n), 0);
        EXPECT_EQ_INT(request_bearer("Bearer ab\0cd", 12, &tok, &n), -1);
        EXPECT_EQ_INT(request_bearer("Bearer ab cd", 12, &tok, &n), -1);
        EXPECT_EQ_INT(request_bearer("Bearer ab\x7f", 10, &tok, &n), -1);
        EXPECT(request_clean_value("text/plain; q=0.5\t\xd0\x96", 20));
        EXPECT(!request_clean_value("a\0b", 3) && !request_clean_value("a\rb", 3) && !request_clean_value("\x7f", 1));
    }
}
