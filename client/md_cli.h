/* md_cli.h: the mentorctl program as a function. main() only calls it; the
 * global options, the command table, help, typo suggestions and dispatch
 * all live behind it in the mdclient library, so unit tests can drive the
 * whole command line (usage errors, help, exit statuses) in process. */
#ifndef MD_CLI_H
#define MD_CLI_H

#include <stddef.h>

/* Run mentorctl with argv (argv[0] is the program name) and return its exit
 * status (see md_exit_t in md_cmd.h). */
int md_cli_main(int argc, char *argv[]);

/* The names a word typed in place of a command can be compared against:
 * top-level commands and groups when group is NULL, else the commands of
 * that group. Returns how many were stored in out (at most cap). */
size_t md_cli_command_names(const char *group, const char **out, size_t cap);

#endif
