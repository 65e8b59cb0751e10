// The fuzz input codec (fuzz_common.hpp): encoding a choice with Writer and decoding it with
// FuzzedDataProvider gives the choice back, so the committed seeds are the cases they claim
// to be; and the decoder reaches what the issue asks for (every rope type, both layouts,
// head_dim 128 for about half the inputs, partial rotary, edge positions).
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"
#include "properties/edge_positions.hpp"

namespace ropecheck::fuzz {
namespace {

TEST(FuzzCodec, SeedsDecodeToTheirChoices) {
  for (const std::string& t : {std::string("differential"), std::string("metamorphic")}) {
    for (const std::vector<uint8_t>& seed : seed_inputs(t)) {
      std::optional<Decoded> d = decode_case(seed.data(), seed.size());
      ASSERT_TRUE(d.has_value()) << t << " seed " << short_hash(seed) << " has no valid spec";
      EXPECT_EQ(encode_case(d->choice), seed) << "re-encoding seed " << short_hash(seed) << " changed it";
      EXPECT_EQ(d->base.x.size(), static_cast<size_t>(d->base.n_tokens() * d->base.n_heads * d->base.spec.head_dim));
    }
  }
}

// Every listed edge position is the first token of some seed (the hard-case file seeds the corpus).
TEST(FuzzCodec, SeedsCoverTheHardCaseFile) {
  std::set<int64_t> first;
  for (const std::vector<uint8_t>& seed : seed_inputs("differential")) {
    first.insert(decode_case(seed.data(), seed.size())->base.positions[0]);
  }
  for (int64_t t : props::listed_edge_positions()) EXPECT_TRUE(first.count(t)) << "no seed at t = " << t;
}

// The committed corpus holds the ABI 2 call seeds (written whatever the kernel set), and the
// built-in set — ABI 1 kernels — reads each as a valid v1 case.
TEST(FuzzCodec, TheCommittedCorpusHoldsTheCallSeeds) {
  ASSERT_FALSE(decoder_reads_calls()) << "the built-in kernels are ABI 1";
  const std::string corpus = default_corpus_dir();
  ASSERT_FALSE(corpus.empty());
  const std::vector<std::vector<uint8_t>> calls = call_seeds();
  ASSERT_GE(calls.size(), 32u);
  for (const std::string& t : {std::string("differential"), std::string("metamorphic")}) {
    for (const std::vector<uint8_t>& seed : calls) {
      const std::string path = corpus + "/" + t + "/seed-" + short_hash(seed);
      std::vector<uint8_t> bytes;
      ASSERT_NO_THROW(bytes = read_file_bytes(path)) << path << " missing: rebuild the fuzz-seeds target";
      EXPECT_EQ(bytes, seed) << path;
      std::optional<Decoded> d = decode_case(bytes.data(), bytes.size());
      ASSERT_TRUE(d.has_value()) << path;
      EXPECT_FALSE(d->choice.with_call) << path;
    }
  }
}

TEST(FuzzCodec, RandomInputsReachEverySpecShape) {
  std::mt19937_64 rng(7);
  std::set<int> types, layouts;
  int n = 0, d128 = 0, partial = 0, edge = 0, positions = 0;
  for (int i = 0; i < 4000; ++i) {
    std::vector<uint8_t> in(64 + rng() % 512);
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    const std::optional<Decoded> d = decode_case(in.data(), in.size());
    if (!d) continue;
    ++n;
    types.insert(static_cast<int>(d->base.spec.type));
    layouts.insert(static_cast<int>(d->base.spec.layout));
    d128 += d->base.spec.head_dim == 128;
    partial += d->base.spec.rotary_dim < d->base.spec.head_dim;
    // The edge positions the gate sweeps (the hard-case file, every 2^k and 2^k ± 1, the
    // spec's L0 ± 1), so they are what the decoder's bias must reach.
    const std::vector<int64_t> edges = props::edge_positions(d->base.spec, INT64_MAX);
    for (int64_t t : d->base.positions) {
      ++positions;
      edge += std::binary_search(edges.begin(), edges.end(), t);
    }
  }
  printf("valid %d of 4000; head_dim 128: %d; partial rotary: %d; edge positions %d of %d\n", n, d128,
         partial, edge, positions);
  EXPECT_GT(n, 3000);  // random bytes nearly always decode to a valid case
  EXPECT_EQ(types.size(), 8u);  // proportional through the default type's selectors
  EXPECT_EQ(layouts.size(), 2u);
  EXPECT_GT(d128, n / 3);
  EXPECT_GT(partial, n / 20);
  EXPECT_GT(edge, positions / 4);
}

}  // namespace
}  // namespace ropecheck::fuzz
