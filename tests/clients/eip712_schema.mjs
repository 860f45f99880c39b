// Helpers shared by the ethers clients: from perpd's EIP-712 schema (perp_eip712Schema or
// `perp-cli schema`) to what ethers' signTypedData takes.

// The types reachable from a primary type, without EIP712Domain (ethers adds the domain itself).
export function typesFor(schema, primary) {
  const out = {};
  const visit = (name) => {
    const base = name.replace(/\[\d*\]$/, "");
    if (out[base] || !schema.types[base]) return;
    out[base] = schema.types[base];
    for (const member of schema.types[base]) visit(member.type);
  };
  visit(primary);
  return out;
}

// The signed message: the action's fields without "type", plus the nonce.
export function messageOf(action, nonce) {
  const { type, ...fields } = action;
  return { ...fields, nonce };
}
