// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IWavsServiceHandler} from "./IWavsServiceHandler.sol";

/// @title IWavsServiceManager
/// @notice The operator set of a WAVS service and the rule deciding whether an envelope is signed by
///         enough of it. Same ABI as WAVS's IWavsServiceManager (functions, events and errors).
interface IWavsServiceManager {
    /// @notice No signers, or not one signature per signer.
    error InvalidSignatureLength();
    /// @notice The reference block is not strictly before the current block.
    error InvalidSignatureBlock();
    /// @notice Signers are not strictly ascending (this also catches duplicates).
    error InvalidSignatureOrder();
    /// @notice A signature does not recover to its signer.
    error InvalidSignature();
    /// @notice There is no weight to reach a quorum with.
    error InsufficientQuorumZero();
    /// @notice The signers' weight is below the threshold.
    /// @param signerWeight Sum of the weights of the signers.
    /// @param thresholdWeight Smallest weight that would have reached the quorum.
    /// @param totalWeight Weight of the whole operator set.
    error InsufficientQuorum(uint256 signerWeight, uint256 thresholdWeight, uint256 totalWeight);
    /// @notice The quorum fraction given is not usable.
    error InvalidQuorumParameters();

    /// @notice The quorum fraction changed.
    event QuorumThresholdUpdated(uint256 indexed numerator, uint256 indexed denominator);
    /// @notice The service URI changed.
    event ServiceURIUpdated(string serviceURI);

    /// @notice Reverts unless `signatureData` is a valid quorum of signatures over `envelope`.
    function validate(
        IWavsServiceHandler.Envelope calldata envelope,
        IWavsServiceHandler.SignatureData calldata signatureData
    ) external view;

    /// @notice The current weight of an operator (0 when not registered).
    function getOperatorWeight(address operator) external view returns (uint256);

    /// @notice The operator a signing key currently belongs to, or address(0).
    function getLatestOperatorForSigningKey(address signingKeyAddress) external view returns (address);

    /// @notice Where the service definition (service JSON) is published.
    function getServiceURI() external view returns (string memory);

    /// @notice Publishes a new service URI; emits ServiceURIUpdated.
    function setServiceURI(string calldata _serviceURI) external;

    /// @notice EigenLayer allocation manager, or address(0) when the service does not use one.
    function getAllocationManager() external view returns (address);

    /// @notice EigenLayer delegation manager, or address(0) when the service does not use one.
    function getDelegationManager() external view returns (address);

    /// @notice Stake registry, or address(0) when the service does not use one.
    function getStakeRegistry() external view returns (address);
}
