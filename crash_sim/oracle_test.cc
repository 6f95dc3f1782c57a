// The oracle on hand-made states: it accepts every allowed prefix and names
// the broken rule for each kind of bad state.
#include "crash_sim/oracle.h"

#include <gtest/gtest.h>

namespace crash_sim {
namespace {

// w1: a=1   w2: b=2   w3 (synced): batch {c=3, d=4}   w4: del a   w5: b=5
class OracleTest : public ::testing::Test {
 protected:
  OracleTest() : history_(64) {
    Write({{"a", "1"}});
    Write({{"b", "2"}});
    Write({{"c", "3"}, {"d", "4"}}, /*sync=*/true);
    Write({{"a", std::nullopt}});
    Write({{"b", "5"}});
  }
  void Write(WriteOps ops, bool sync = false) {
    history_.EndWrite(history_.BeginWrite(std::move(ops)), true, sync);
  }
  CheckResult Check(const State& state) {
    CrashBounds b = history_.Bounds();
    return Oracle(history_, b.synced, b.issued).CheckState(state);
  }
  History history_;
};

TEST_F(OracleTest, BoundsFollowAcksAndSyncs) {
  CrashBounds b = history_.Bounds();
  EXPECT_EQ(b.synced, 3u);
  EXPECT_EQ(b.acked, 5u);
  EXPECT_EQ(b.issued, 5u);
}

TEST_F(OracleTest, AcceptsEveryAllowedPrefix) {
  Oracle oracle(history_, 3, 5);
  for (uint64_t k = 3; k <= 5; ++k) {
    CheckResult r = oracle.CheckState(oracle.PrefixState(k));
    EXPECT_TRUE(r.ok) << r.rule << ": " << r.message;
    EXPECT_EQ(r.k, k);
  }
}

TEST_F(OracleTest, RejectsLostSyncedWrite) {
  CheckResult r = Check(State{{"a", "1"}, {"b", "2"}});  // exactly w1..w2, but w3 was synced
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleSyncedLost) << r.message;
  EXPECT_EQ(r.k, 2u);
}

TEST_F(OracleTest, RejectsHole) {
  // w7 survived while w6 (e=6), after the synced w3, is missing.
  Write({{"e", "6"}});  // w6, so that the hole is after the synced w3
  Write({{"f", "7"}});  // w7
  CheckResult r = Check(State{{"b", "5"}, {"c", "3"}, {"d", "4"}, {"f", "7"}});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleNotPrefix) << r.message;
}

TEST_F(OracleTest, RejectsSplitBatch) {
  CheckResult r = Check(State{{"a", "1"}, {"b", "2"}, {"c", "3"}});  // d=4 of w3 missing
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleSplitBatch) << r.message;
}

TEST_F(OracleTest, RejectsResurrectedDelete) {
  CheckResult r = Check(State{{"a", "1"}, {"b", "5"}, {"c", "3"}, {"d", "4"}});  // w4 undone
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleResurrected) << r.message;
}

TEST_F(OracleTest, RejectsInventedValue) {
  CheckResult r = Check(State{{"b", "5"}, {"c", "3"}, {"d", "4"}, {"x", "9"}});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, kRuleNeverWritten) << r.message;
  r = Check(State{{"b", "7"}, {"c", "3"}, {"d", "4"}});
  EXPECT_EQ(r.rule, kRuleNeverWritten) << r.message;
}

TEST_F(OracleTest, FailedWriteMayEndThePrefix) {
  history_.EndWrite(history_.BeginWrite({{"g", "8"}}), /*ok=*/false, false);  // w6 failed
  Oracle oracle(history_, 3, 6);
  EXPECT_TRUE(oracle.CheckState(oracle.PrefixState(5)).ok);
  EXPECT_TRUE(oracle.CheckState(oracle.PrefixState(6)).ok);
}

TEST_F(OracleTest, MessageNamesNearestPrefixAndKey) {
  CheckResult r = Check(State{{"a", "1"}, {"b", "2"}, {"c", "3"}});
  EXPECT_NE(r.message.find("nearest prefix k="), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("'d'"), std::string::npos) << r.message;
}

TEST(HistoryTest, ContinueFromKeepsThePrefixAndSyncBound) {
  History a(16), b(16);
  for (int i = 0; i < 4; ++i)
    a.EndWrite(a.BeginWrite({{"k" + std::to_string(i), "v"}}), true, i == 1);
  b.ContinueFrom(a, 3, a.Bounds().synced);
  EXPECT_EQ(b.Bounds().issued, 3u);
  EXPECT_EQ(b.Bounds().synced, 2u);
  EXPECT_EQ(b.StateHash(3), a.StateHash(3));
}

}  // namespace
}  // namespace crash_sim
