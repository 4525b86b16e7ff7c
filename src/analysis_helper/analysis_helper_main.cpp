// dumpscope-analysis (libexec/dumpscope/): the analysis of one dump for `dumpscope server`, one
// process per crash (service/analysis_child.h says what it is given and what it answers). A
// program of its own so that each start loads only what an analysis needs: linked --as-needed, it
// leaves out the server's HTTP, SQL, S3 and PostgreSQL libraries and the TLS, Kerberos and LDAP
// ones they bring (`dumpscope` itself loads 47 shared objects; bench/RESULTS.md has the start-up
// times). Not for people: the server passes everything on its command line and descriptors.
#include "service/analysis_child.h"

// (analysis_child_main tunes malloc once it has limited itself.)
int main(int argc, char** argv) { return dumpscope::service::analysis_child_main(argc, argv); }
