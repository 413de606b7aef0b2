/* Child processes for tests (children.h). */
#include "tests/lib/children.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

pid_t fx_child(int mib, bool ignore_term) {
        int ready[2];
        char ch;

        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (ignore_term)
                        signal(SIGTERM, SIG_IGN);
                if (mib) {
                        size_t len = (size_t)mib << 20;
                        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (p == MAP_FAILED)
                                _exit(1);
                        memset(p, 1, len);
                }
                if (write(ready[1], "r", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        cr_assert_eq(read(ready[0], &ch, 1), 1);
        close(ready[0]);
        return pid;
}
