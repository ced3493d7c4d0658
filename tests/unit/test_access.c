/* The access file of `esep serve` (src/publish/access.h): good files parse
 * into the right regions; every kind of bad line is refused with the file
 * and line in the message; lookup finds a token only by its hash; and
 * access_add appends a working line, 0600, refusing duplicates. */
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish/access.h"
#include "test.h"

#define H64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" /* sha256("test") */
#define H64B "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" /* sha256("hello") */

/* Parses text; returns the status and leaves the message in err. */
static int parse(const char *text, access_list *l, char *err, size_t errlen) {
    err[0] = '\0';
    return access_parse("acc", text, strlen(text), l, err, errlen);
}

/* True when text is refused with a message starting "acc:<line>:". */
static int refused_at(const char *text, int line) {
    access_list l;
    char err[512], want[32];
    int rc = parse(text, &l, err, sizeof err);
    snprintf(want, sizeof want, "acc:%d: ", line);
    if (rc == 0) {
        access_free(&l);
        fprintf(stderr, "    accepted: %s\n", text);
        return 0;
    }
    if (strncmp(err, want, strlen(want))) fprintf(stderr, "    message '%s', want prefix '%s'\n", err, want);
    return l.n == 0 && l.entry == NULL && !strncmp(err, want, strlen(want));
}

static void good_files(void) {
    TEST_CASE("access: comments, blank lines, tabs and a final line without newline") {
        access_list l;
        char err[256];
        const char *text = "# akimats\n\n  # indented comment\nakimat-75\t" H64 "  75,00\r\nrepublic " H64B " *";
        EXPECT_EQ_INT(parse(text, &l, err, sizeof err), 0);
        EXPECT_EQ_INT(l.n, 2);
        if (l.n == 2) {
            EXPECT_EQ_STR(l.entry[0].name, "akimat-75");
            EXPECT_EQ_INT(l.entry[0].line, 4);
            EXPECT(access_allows(&l.entry[0], "75") && access_allows(&l.entry[0], "00"));
            EXPECT(!access_allows(&l.entry[0], "61") && !access_allows(&l.entry[0], "7"));
            EXPECT(!access_allows(&l.entry[0], "../75"));
            EXPECT(l.entry[1].all && access_allows(&l.entry[1], "61") && access_allows(&l.entry[1], "00"));
            EXPECT(!access_allows(&l.entry[1], "611"));
        }
        access_free(&l);
    }
    TEST_CASE("access: an empty file is an empty list") {
        access_list l;
        char err[256];
        EXPECT_EQ_INT(parse("", &l, err, sizeof err), 0);
        EXPECT_EQ_INT(l.n, 0);
        access_free(&l);
    }
}

static void bad_lines(void) {
    TEST_CASE("access: bad lines are refused with file:line") {
        EXPECT(refused_at("a " H64 "\n", 1));                                   /* 2 fields */
        EXPECT(refused_at("# c\na " H64 " 75 extra\n", 2));                    /* 4 fields */
        EXPECT(refused_at("a/b " H64 " 75\n", 1));                             /* name char */
        EXPECT(refused_at("a\xc3\xa9 " H64 " 75\n", 1));                       /* non-ASCII */
        EXPECT(refused_at("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " H64 " 75\n", 1));
        EXPECT(refused_at("a 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 75\n", 1));
        EXPECT(refused_at("a " H64 "0 75\n", 1));                             /* 65 hex */
        EXPECT(refused_at("a 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g 75\n", 1));
        EXPECT(refused_at("a " H64 " 7\n", 1));
        EXPECT(refused_at("a " H64 " 751\n", 1));
        EXPECT(refused_at("a " H64 " 75,\n", 1));
        EXPECT(refused_at("a " H64 " ,75\n", 1));
        EXPECT(refused_at("a " H64 " 75,,00\n", 1));
        EXPECT(refused_at("a " H64 " 75,75\n", 1));
        EXPECT(refused_at("a " H64 " *,75\n", 1));
        EXPECT(refused_at("a " H64 " **\n", 1));
        EXPECT(refused_at("a " H64 " 7a\n", 1));
        EXPECT(refused_at("a " H64 " 75\nb " H64B " 61\na " H64B "x 00\n", 3));
    }
    TEST_CASE("access: duplicate names and hashes name both lines") {
        access_list l;
        char err[256];
        EXPECT_EQ_INT(parse("a " H64 " 75\n\nb " H64B " 61\na " H64B "\t00\n", &l, err, sizeof err), -1);
        EXPECT(strstr(err, "acc:4: name 'a' already on line 1") != NULL);
        EXPECT_EQ_INT(parse("a " H64 " 75\nb " H64 " 61\n", &l, err, sizeof err), -1);
        EXPECT(strstr(err, "acc:2: token hash already on line 1") != NULL);
    }
    TEST_CASE("access: overlong line, NUL byte") {
        char text[ACCESS_MAX_LINE + 64];
        memset(text, '#', sizeof text - 1);
        text[sizeof text - 1] = '\0';
        EXPECT(refused_at(text, 1));
        access_list l;
        char err[256];
        static const char nul[] = "a " H64 " 75\nb\0 " H64B " 61\n";
        EXPECT_EQ_INT(access_parse("acc", nul, sizeof nul - 1, &l, err, sizeof err), -1);
        EXPECT(strstr(err, "acc:2: NUL") != NULL);
    }
}

static void lookup(void) {
    TEST_CASE("access: lookup by token, never by hash or a near miss") {
        access_list l;
        char err[256];
        EXPECT_EQ_INT(parse("t " H64 " 75\nh " H64B " *\n", &l, err, sizeof err), 0);
        const access_entry *e = access_lookup(&l, "test", 4);
        EXPECT(e && !strcmp(e->name, "t"));
        e = access_lookup(&l, "hello", 5);
        EXPECT(e && !strcmp(e->name, "h"));
        EXPECT(access_lookup(&l, "Test", 4) == NULL);
        EXPECT(access_lookup(&l, "test ", 5) == NULL);
        EXPECT(access_lookup(&l, H64, 64) == NULL);
        EXPECT(access_lookup(&l, "", 0) == NULL);
        EXPECT(access_lookup(&l, "te\"st", 5) == NULL);
        access_free(&l);
    }
}

static void add(void) {
    TEST_CASE("access: add appends a working line, 0600, refuses duplicates") {
        char dir[] = "/tmp/esep-access-XXXXXX", path[64], err[512];
        char token[ACCESS_TOKEN_HEX + 1], token2[ACCESS_TOKEN_HEX + 1];
        EXPECT(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/access", dir);
        EXPECT_EQ_INT(access_add(path, "akimat-75", "75,00", token, err, sizeof err), 0);
        EXPECT_EQ_INT(strlen(token), ACCESS_TOKEN_HEX);
        struct stat st;
        EXPECT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        EXPECT_EQ_INT(access_add(path, "akimat-75", "61", token2, err, sizeof err), -1);
        EXPECT(strstr(err, ":1: akimat 'akimat-75' is already") != NULL);
        EXPECT_EQ_INT(access_add(path, "bad/name", "61", token2, err, sizeof err), -1);
        EXPECT_EQ_INT(access_add(path, "akimat-61", "61,", token2, err, sizeof err), -1);
        EXPECT_EQ_INT(access_add(path, "republic", "*", token2, err, sizeof err), 0);
        access_list l;
        EXPECT_EQ_INT(access_load(path, &l, err, sizeof err), 0);
        EXPECT_EQ_INT(l.n, 2);
        const access_entry *e = access_lookup(&l, token, strlen(token));
        EXPECT(e && !strcmp(e->name, "akimat-75") && access_allows(e, "00") && !access_allows(e, "61"));
        e = access_lookup(&l, token2, strlen(token2));
        EXPECT(e && e->all);
        access_free(&l);
        FILE *f = fopen(path, "r");
        char text[1024] = "";
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[n] = '\0';
        if (f) fclose(f);
        EXPECT(strstr(text, token) == NULL && strstr(text, token2) == NULL);
        unlink(path);
        rmdir(dir);
    }
}

void suite_access(void) {
    good_files();
    bad_lines();
    lookup();
    add();
}
