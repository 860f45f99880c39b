#include "perps/event_codec.h"

#include "record_codec.h"

namespace perps {
using detail::RecordReader;
using detail::RecordWriter;

std::string encode_fill_events(const std::vector<FillEvent>& events) {
  RecordWriter w;
  w.u32(static_cast<std::uint32_t>(events.size()));
  for (const FillEvent& f : events) {
    w.u32(f.market)
        .bytes(f.user)
        .u64(f.oid)
        .u64(f.tid)
        .i64(f.px)
        .i64(f.sz)
        .u8(static_cast<std::uint8_t>(f.side))
        .u8(f.crossed)
        .i64(f.fee)
        .i64(f.closed_pnl)
        .u8(static_cast<std::uint8_t>(f.dir))
        .i64(f.start_position)
        .u64(f.time_ms)
        .bytes(f.tx_hash)
        .u8(static_cast<std::uint8_t>(f.liquidation))
        .bytes(f.liquidated_user)
        .i64(f.liquidation_mark_px);
  }
  return w.take();
}

state::Result<std::vector<FillEvent>> decode_fill_events(std::string_view bytes) {
  RecordReader r(bytes);
  const std::uint32_t count = r.u32();
  std::vector<FillEvent> events;
  bool in_range = true;  // enums hold one of their values, else the record is damaged
  for (std::uint32_t i = 0; i < count && r.ok() && in_range; ++i) {
    FillEvent f;
    f.market = r.u32();
    f.user = r.bytes<20>();
    f.oid = r.u64();
    f.tid = r.u64();
    f.px = r.i64();
    f.sz = r.i64();
    const std::uint8_t side = r.u8();
    const std::uint8_t crossed = r.u8();
    in_range &= side <= 1 && crossed <= 1;
    f.side = side ? Side::Ask : Side::Bid;
    f.crossed = crossed != 0;
    f.fee = r.i64();
    f.closed_pnl = r.i64();
    const std::uint8_t dir = r.u8();
    in_range &= dir <= 5;
    f.dir = static_cast<FillDirection>(dir <= 5 ? dir : 0);
    f.start_position = r.i64();
    f.time_ms = r.u64();
    f.tx_hash = r.bytes<32>();
    const std::uint8_t method = r.u8();
    in_range &= method <= 3;
    f.liquidation = static_cast<LiquidationMethod>(method <= 3 ? method : 0);
    f.liquidated_user = r.bytes<20>();
    f.liquidation_mark_px = r.i64();
    events.push_back(f);
  }
  if (!in_range || !r.done())
    return state::make_error(state::Reason::StorageError, "damaged event record");
  return events;
}

}  // namespace perps
