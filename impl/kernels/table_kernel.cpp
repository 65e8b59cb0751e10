#include "table_kernel.hpp"

namespace ropecheck::impl {

int build_table_state(const rc_spec& spec, TableState* st) {
  ExactTable& tab = st->table;
  if (int rc = make_exact_angles(spec, &tab.angles); rc != RC_OK) return rc;
  tab.allocate(table_length(spec));  // rows are filled by exact_row on first use
  return RC_OK;
}

int table_prepare(const rc_spec* spec, void** handle) {
  return prepare_state<TableState>(spec, handle, build_table_state);
}

}  // namespace ropecheck::impl
