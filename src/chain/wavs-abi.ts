import { parseAbi } from "viem";

/** The parts of WAVS's handler and manager ABIs the node calls, errors included for decoding. */
export const wavsHandlerAbi = parseAbi([
  "struct Envelope { bytes20 eventId; bytes12 ordering; bytes payload; }",
  "struct SignatureData { address[] signers; bytes[] signatures; uint32 referenceBlock; }",
  "function handleSignedEnvelope(Envelope envelope, SignatureData signatureData)",
  "function getServiceManager() view returns (address)",
  "function validate(Envelope envelope, SignatureData signatureData) view",
  "error InsufficientQuorum(uint256 signerWeight, uint256 thresholdWeight, uint256 totalWeight)",
  "error InvalidSignature()",
  "error InvalidSignatureLength()",
  "error InvalidSignatureBlock()",
  "error InvalidSignatureOrder()",
  "error InvalidQuorumParameters()",
]);
