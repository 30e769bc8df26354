"""合同备案 and the contract-side lists."""
