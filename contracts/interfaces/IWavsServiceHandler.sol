// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IWavsServiceHandler
/// @notice Implemented by a contract that accepts results signed by a WAVS operator set.
/// @dev Same ABI as WAVS's IWavsServiceHandler, so WAVS and wavs-edge nodes can submit to it.
interface IWavsServiceHandler {
    /// @notice One signed result.
    /// @param eventId 20-byte event id every operator derives identically for the same event.
    /// @param ordering Optional ordering hint (u64 big-endian in the first 8 bytes), zero if unused.
    /// @param payload Opaque bytes produced by the component; the handler decides their meaning.
    struct Envelope {
        bytes20 eventId;
        bytes12 ordering;
        bytes payload;
    }

    /// @notice Operator signatures over an envelope.
    /// @param signers Signing-key addresses, strictly ascending.
    /// @param signatures `signatures[i]` is 65 bytes r‖s‖v by `signers[i]` over
    ///        EIP-191(keccak256(abi.encode(envelope))).
    /// @param referenceBlock The block the operator set is read at; must be before the current block.
    struct SignatureData {
        address[] signers;
        bytes[] signatures;
        uint32 referenceBlock;
    }

    /// @notice Checks the signatures through the service manager, then acts on the payload.
    /// @dev Reverts with the service manager's error when the signatures do not pass.
    function handleSignedEnvelope(Envelope calldata envelope, SignatureData calldata signatureData) external;

    /// @notice The service manager whose operator set this handler trusts.
    function getServiceManager() external view returns (address);
}
