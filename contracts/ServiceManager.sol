// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IWavsServiceHandler} from "./interfaces/IWavsServiceHandler.sol";
import {IWavsServiceManager} from "./interfaces/IWavsServiceManager.sol";

/// @title WavsServiceManager
/// @notice A service manager whose owner keeps the operator set by hand (proof of authority, no
///         EigenLayer), and which really checks signatures: every signer must be the current signing
///         key of a registered operator, and the signers' weight must reach
///         `numerator / denominator` of the total weight.
/// @dev Quorum rule, as in WAVS's own managers: an envelope passes iff
///      `signerWeight * denominator >= totalWeight * numerator`.
///      Weights are read as they are now: the reference block is only checked to be in the past
///      (there are no historical checkpoints), so a change to the operator set applies at once.
contract WavsServiceManager is IWavsServiceManager, Ownable {
    using SafeCast for uint256;

    /// @notice Zero operator, or zero signing key for a non-zero weight.
    error InvalidOperator();
    /// @notice The signing key already belongs to another operator.
    error SigningKeyInUse(address signingKey, address operator);
    /// @notice A signer is not the signing key of any registered operator.
    error SignerNotRegistered();

    /// @notice An operator was registered, re-keyed, re-weighted or (weight 0) removed.
    event OperatorUpdated(address indexed operator, address indexed signingKey, uint256 weight);

    // Keyed by signing key, so validate() reads one slot per signer.
    struct SigningKey {
        address operator;
        uint96 weight;
    }

    mapping(address signingKey => SigningKey) private _signingKeys;
    mapping(address operator => address signingKey) private _operatorKeys;

    // Packed in one slot: validate() reads all three together.
    uint128 private _totalWeight;
    uint64 private _quorumNumerator;
    uint64 private _quorumDenominator;

    string private _uri;

    /// @notice True when operators sign keccak256(abi.encode(envelope)) itself, as WAVS does for a
    ///         workflow whose signature_kind.prefix is null; false for the EIP-191 hash of it.
    bool public immutable unprefixedSignatures;

    /// @param initialOwner Who may change the operator set, the quorum and the service URI.
    /// @param quorumNumerator Numerator of the quorum fraction (see setQuorumThreshold).
    /// @param quorumDenominator Denominator of the quorum fraction.
    /// @param unprefixed_ Verify signatures over the bare envelope hash (signature_kind.prefix null)
    ///        instead of its EIP-191 hash; must match the service's workflows.
    constructor(address initialOwner, uint256 quorumNumerator, uint256 quorumDenominator, bool unprefixed_)
        Ownable(initialOwner)
    {
        _setQuorumThreshold(quorumNumerator, quorumDenominator);
        unprefixedSignatures = unprefixed_;
    }

    // ------------------------------------------------------------------------------------------
    // Validation
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IWavsServiceManager
    function validate(
        IWavsServiceHandler.Envelope calldata envelope,
        IWavsServiceHandler.SignatureData calldata signatureData
    ) external view {
        uint256 count = signatureData.signers.length;
        if (count == 0 || count != signatureData.signatures.length) revert InvalidSignatureLength();
        if (signatureData.referenceBlock >= block.number) revert InvalidSignatureBlock();

        uint256 totalWeight = _totalWeight;
        if (totalWeight == 0) revert InsufficientQuorumZero();

        bytes32 envelopeHash = keccak256(abi.encode(envelope));
        bytes32 digest = unprefixedSignatures ? envelopeHash : MessageHashUtils.toEthSignedMessageHash(envelopeHash);

        uint256 signerWeight;
        address previous;
        for (uint256 i; i < count; ++i) {
            address signer = signatureData.signers[i];
            // Strictly ascending also rules out duplicates and address(0).
            if (signer <= previous) revert InvalidSignatureOrder();
            previous = signer;

            uint256 weight = _signingKeys[signer].weight;
            if (weight == 0) revert SignerNotRegistered();

            bytes calldata signature = signatureData.signatures[i];
            if (signature.length != 65) revert InvalidSignatureLength();
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
            if (err != ECDSA.RecoverError.NoError || recovered != signer) revert InvalidSignature();

            signerWeight += weight;
        }

        uint256 numerator = _quorumNumerator;
        uint256 denominator = _quorumDenominator;
        if (signerWeight * denominator < totalWeight * numerator) {
            revert InsufficientQuorum(
                signerWeight, Math.mulDiv(totalWeight, numerator, denominator, Math.Rounding.Ceil), totalWeight
            );
        }
    }

    // ------------------------------------------------------------------------------------------
    // Operator set
    // ------------------------------------------------------------------------------------------

    /// @notice Registers, re-keys or re-weights an operator; weight 0 removes it (signingKey ignored).
    /// @dev Reverts InvalidOperator for a zero operator or zero key, SigningKeyInUse when the key
    ///      belongs to another operator, and SafeCast's error for a weight above 2^96 - 1.
    function setOperator(address operator, address signingKey, uint256 weight) external onlyOwner {
        if (operator == address(0)) revert InvalidOperator();

        address oldKey = _operatorKeys[operator];
        uint256 oldWeight = _signingKeys[oldKey].weight;

        if (weight == 0) {
            if (oldKey != address(0)) {
                delete _signingKeys[oldKey];
                delete _operatorKeys[operator];
            }
            _totalWeight = (_totalWeight - oldWeight).toUint128();
            emit OperatorUpdated(operator, address(0), 0);
            return;
        }

        if (signingKey == address(0)) revert InvalidOperator();
        address holder = _signingKeys[signingKey].operator;
        if (holder != address(0) && holder != operator) revert SigningKeyInUse(signingKey, holder);

        if (oldKey != address(0) && oldKey != signingKey) delete _signingKeys[oldKey];
        _signingKeys[signingKey] = SigningKey({operator: operator, weight: weight.toUint96()});
        _operatorKeys[operator] = signingKey;
        _totalWeight = (_totalWeight - oldWeight + weight).toUint128();

        emit OperatorUpdated(operator, signingKey, weight);
    }

    /// @inheritdoc IWavsServiceManager
    function getOperatorWeight(address operator) external view returns (uint256) {
        address key = _operatorKeys[operator];
        return key == address(0) ? 0 : _signingKeys[key].weight;
    }

    /// @inheritdoc IWavsServiceManager
    function getLatestOperatorForSigningKey(address signingKeyAddress) external view returns (address) {
        return _signingKeys[signingKeyAddress].operator;
    }

    /// @notice The current signing key of an operator, or address(0).
    function getLatestOperatorSigningKey(address operator) external view returns (address) {
        return _operatorKeys[operator];
    }

    /// @notice Sum of the weights of all registered operators.
    function getTotalWeight() external view returns (uint256) {
        return _totalWeight;
    }

    // ------------------------------------------------------------------------------------------
    // Quorum
    // ------------------------------------------------------------------------------------------

    /// @notice Sets the quorum fraction: signers must hold at least numerator/denominator of the weight.
    /// @dev Reverts InvalidQuorumParameters unless 0 < numerator <= denominator < 2^64.
    function setQuorumThreshold(uint256 numerator, uint256 denominator) external onlyOwner {
        _setQuorumThreshold(numerator, denominator);
    }

    /// @notice The quorum fraction.
    function getQuorumThreshold() external view returns (uint256 numerator, uint256 denominator) {
        return (_quorumNumerator, _quorumDenominator);
    }

    /// @notice Smallest signer weight that reaches the quorum now: ceil(totalWeight * numerator / denominator).
    function getThresholdWeight() external view returns (uint256) {
        return Math.mulDiv(_totalWeight, _quorumNumerator, _quorumDenominator, Math.Rounding.Ceil);
    }

    function _setQuorumThreshold(uint256 numerator, uint256 denominator) private {
        // The 64-bit bound keeps signerWeight * denominator far from overflow (weights are 96-bit).
        if (numerator == 0 || numerator > denominator || denominator > type(uint64).max) {
            revert InvalidQuorumParameters();
        }
        _quorumNumerator = uint64(numerator);
        _quorumDenominator = uint64(denominator);
        emit QuorumThresholdUpdated(numerator, denominator);
    }

    // ------------------------------------------------------------------------------------------
    // Service URI and EigenLayer hooks
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IWavsServiceManager
    function getServiceURI() external view returns (string memory) {
        return _uri;
    }

    /// @inheritdoc IWavsServiceManager
    /// @dev Owner only.
    function setServiceURI(string calldata _serviceURI) external onlyOwner {
        _uri = _serviceURI;
        emit ServiceURIUpdated(_serviceURI);
    }

    /// @inheritdoc IWavsServiceManager
    function getAllocationManager() external pure returns (address) {
        return address(0);
    }

    /// @inheritdoc IWavsServiceManager
    function getDelegationManager() external pure returns (address) {
        return address(0);
    }

    /// @inheritdoc IWavsServiceManager
    /// @dev This contract is its own stake registry; like WAVS's POA manager it reports none.
    function getStakeRegistry() external pure returns (address) {
        return address(0);
    }
}
