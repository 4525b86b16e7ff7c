// The database layer is backend-neutral now (SQLite or PostgreSQL): database.h. This name stays
// for code written against it.
#pragma once

#include "service/database.h"
