/* main.c: the entry point of mentorctl. The program itself lives in the
 * mdclient library (cli.c) so the unit tests can run it in process; this
 * file only hands it the command line. */
#include "md_cli.h"

int main(int argc, char *argv[])
{
    return md_cli_main(argc, argv);
}
