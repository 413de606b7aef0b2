/* Secrets in victims' command lines are masked before any log or audit
 * line shows them; ordinary arguments are left alone. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "record/audit.h"
#include "util/redact.h"

/* Inline arrays, not pointers: Criterion runs each parameter in a fresh
 * process, where pointers into the parent's data are not valid. */
struct redact_case {
        char in[128];
        char out[128];
};

ParameterizedTestParameters(redact, cmdline) {
        static struct redact_case cases[] = {
                /* --name=value and -name=value */
                {"app --password=hunter2 --port=80", "app --password=*** --port=80"},
                {"app --db-password=a=b", "app --db-password=***"},
                {"app -token=abc", "app -token=***"},
                {"app --api-key=k1 --client_secret=s --auth=x", "app --api-key=*** --client_secret=*** --auth=***"},
                {"app --access-token=t --credentials=c --passphrase=p", "app --access-token=*** --credentials=*** --passphrase=***"},
                {"app --pass=x --pwd=y --passwd=z", "app --pass=*** --pwd=*** --passwd=***"},
                {"app --PASSWORD=X", "app --PASSWORD=***"},
                /* --name value */
                {"app --token abc --verbose", "app --token *** --verbose"},
                {"app --password --verbose", "app --password --verbose"}, /* no value: next option */
                {"java -Dx=1 -secret s3 -jar a.jar", "java -Dx=1 -secret *** -jar a.jar"},
                {"app --token", "app --token"},
                /* env-style assignments */
                {"env PGPASSWORD=s3 psql -h db", "env PGPASSWORD=*** psql -h db"},
                {"sh -c MYSQL_PWD=x mysqldump", "sh -c MYSQL_PWD=*** mysqldump"},
                {"AWS_SECRET_ACCESS_KEY=abc GITHUB_TOKEN=ghp_x run", "AWS_SECRET_ACCESS_KEY=*** GITHUB_TOKEN=*** run"},
                /* mysql-style -pVALUE, and programs' own password letters */
                {"mysql -uroot -pS3cret db", "mysql -uroot -p*** db"},
                {"/usr/bin/mysqldump -pS3cret --all-databases", "/usr/bin/mysqldump -p*** --all-databases"},
                {"mysql -p db", "mysql -p db"},               /* -p alone prompts; db is a name */
                {"mariadb -pX", "mariadb -p***"},
                {"sshpass -p s3 ssh host", "sshpass -p *** ssh host"},
                {"redis-cli -a s3 ping", "redis-cli -a *** ping"},
                {"sh -c mysql -pX db", "sh -c mysql -p*** db"},
                /* URLs */
                {"psql postgres://app:s3cret@db:5432/x", "psql postgres://app:***@db:5432/x"},
                {"app --url=https://u:p@h/path?q=1", "app --url=https://u:***@h/path?q=1"},
                {"redis://:pw@cache", "redis://:***@cache"},
                {"curl https://h/x?a=1&token=abc&b=2", "curl https://h/x?a=1&token=***&b=2"},
                {"app --dsn=host=db;password=pw;user=u", "app --dsn=host=db;password=***;user=u"},
                /* curl's user:password and headers */
                {"curl -u alice:pw https://h", "curl -u alice:*** https://h"},
                {"curl --user=alice:pw h", "curl --user=alice:*** h"},
                {"curl -u alice h", "curl -u alice h"},
                {"curl -H Authorization: Bearer abc.def h", "curl -H Authorization: Bearer *** h"},
                {"curl -H X-Api-Key: abc h", "curl -H X-Api-Key: *** h"},
                /* Must NOT be masked */
                {"sort -k2 -t, file", "sort -k2 -t, file"},
                {"app --keyboard=us --author=me", "app --keyboard=us --author=me"},
                {"app --keyboard us", "app --keyboard us"},
                {"python train.py --tokenizer gpt2", "python train.py --tokenizer gpt2"},
                {"gcc -pthread -pipe x.c", "gcc -pthread -pipe x.c"},
                {"ssh -p2222 host", "ssh -p2222 host"},
                {"app --bypass x --compass=n", "app --bypass x --compass=n"},
                {"http://host:8080/a@b", "http://host:8080/a@b"},
                {"git clone ssh://git@github.com/a/b", "git clone ssh://git@github.com/a/b"},
                {"java -Xmx4g -jar app.jar", "java -Xmx4g -jar app.jar"},
                {"stress-ng --vm 1 --vm-bytes 90%", "stress-ng --vm 1 --vm-bytes 90%"},
                /* spacing kept; masking is idempotent */
                {"  a  --token  x  ", "  a  --token  ***  "},
                {"app --password=*** --token ***", "app --password=*** --token ***"},
                {"", ""},
        };
        return cr_make_param_array(struct redact_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct redact_case *c, redact, cmdline) {
        char buf[256];
        int r = gd_redact_cmdline(c->in, buf, sizeof(buf));
        cr_assert_str_eq(buf, c->out, "in: '%s'", c->in);
        cr_assert_eq(r, (int)strlen(c->out));
}

/* The mask may be longer than the value: a cut result never shows any of
 * the secret, only kept text and (part of) the mask. */
Test(redact, cut_never_shows_a_secret) {
        const char *in = "app --password=s --token=t";
        const char *full = "app --password=*** --token=***";
        char buf[64];

        for (size_t size = 1; size <= strlen(full) + 1; size++) {
                memset(buf, 'Z', sizeof(buf));
                int r = gd_redact_cmdline(in, buf, size);
                cr_assert_eq(strlen(buf), size - 1 < strlen(full) ? size - 1 : strlen(full));
                cr_assert_eq(strncmp(buf, full, strlen(buf)), 0, "size %zu: '%s'", size, buf);
                cr_assert_eq(r, size - 1 < strlen(full) ? -ENOBUFS : (int)strlen(full));
        }
        cr_assert_eq(gd_redact_cmdline(in, buf, 0), -ENOBUFS);
}

/* The audit log masks every record's command line, whoever filled it in. */
Test(redact, audit_records_are_masked) {
        gd_audit_record rec = {
                .time_unix_ms = 0,
                .event = GD_EVENT_KILL,
                .cgroup = "batch",
                .trigger = "limit",
                .reason = "r",
                .pid = 42,
                .comm = "mysql",
                .cmdline = "mysql -uroot -pS3cret --password=S3cret db",
                .result = GD_RESULT_KILLED,
        };
        char buf[GD_AUDIT_RECORD_MAX];

        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        cr_assert_null(strstr(buf, "S3cret"), "%s", buf);
        cr_assert(strstr(buf, "\"cmdline\":\"mysql -uroot -p*** --password=*** db\""), "%s", buf);
}
