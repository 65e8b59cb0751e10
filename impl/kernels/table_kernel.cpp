#include "table_kernel.hpp"

namespace ropecheck::impl {

int build_table_state(const rc_spec& spec, TableState* st) {
  ExactTable& tab = st->table;
  if (int rc = make_exact_angles(spec, &tab.angles); rc != RC_OK) return rc;
  tab.len = table_length(spec);
  const int pairs = tab.angles.pairs;
  tab.rows.resize(static_cast<size_t>(tab.len) * 2 * static_cast<size_t>(pairs));
  for (int64_t t = 0; t < tab.len; ++t) {
    float* row = tab.rows.data() + t * 2 * pairs;
    exact_row(tab.angles, t, row, row + pairs);
  }
  return RC_OK;
}

}  // namespace ropecheck::impl
