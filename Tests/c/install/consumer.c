/*
** consumer.c -- a program that uses an installed Cairn, as a user would.
** run-install-test.sh builds it twice against the staged install: once with
** `pkg-config --cflags --libs cairn`, once with find_package(Cairn).
**
**   cairn-consumer DIR HOW
**
** Opens a database in DIR, writes and reads one key, closes it, and prints
** one line naming HOW it was built.
*/
#include <cairn.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    cairn_db *db = NULL;
    uint8_t *value = NULL;
    size_t value_len = 0;
    char *err = NULL;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR HOW\n", argv[0]);
        return 2;
    }
    if (cairn_abi_version() != CAIRN_ABI_VERSION ||
        strcmp(cairn_version(), CAIRN_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s (ABI %d), header %s (ABI %d)\n", cairn_version(),
                cairn_abi_version(), CAIRN_VERSION_STRING, CAIRN_ABI_VERSION);
        return 1;
    }
    rc = cairn_open(argv[1], NULL, 0, &db, &err);
    if (rc == CAIRN_OK)
        rc = cairn_put(db, (const uint8_t *)"installed", 9, (const uint8_t *)"yes", 3, 0, &err);
    if (rc == CAIRN_OK)
        rc = cairn_get(db, (const uint8_t *)"installed", 9, &value, &value_len, &err);
    if (rc == CAIRN_OK && (value_len != 3 || memcmp(value, "yes", 3) != 0)) {
        fprintf(stderr, "consumer: read back the wrong value\n");
        rc = CAIRN_INTERNAL;
    }
    cairn_free(value);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "consumer: %s: %s\n", cairn_status_name(rc), err != NULL ? err : "");
        cairn_free(err);
        cairn_close(db, NULL);
        return 1;
    }
    rc = cairn_close(db, &err);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "consumer: close: %s: %s\n", cairn_status_name(rc), err != NULL ? err : "");
        cairn_free(err);
        return 1;
    }
    printf("consumer (%s): cairn %s, ABI %d: put, get and close ok\n", argv[2], cairn_version(),
           cairn_abi_version());
    return 0;
}
