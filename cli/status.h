/* `guardian status`: ask the running daemon over its control socket. */
#pragma once

/* Returns the exit status: 0, 1 on an error, 2 on bad usage, 3 when the
 * daemon is not running (LSB's "program is not running"). */
int gd_cmd_status(int argc, char **argv);
