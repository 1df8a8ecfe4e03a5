// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IWavsServiceHandler} from "./interfaces/IWavsServiceHandler.sol";
import {IWavsServiceManager} from "./interfaces/IWavsServiceManager.sol";
import {ISimpleTrigger} from "./SimpleTrigger.sol";

/// @title ISimpleSubmit
/// @notice Types of WAVS's example submit contract.
interface ISimpleSubmit {
    /// @notice What the component returns as the envelope payload, abi-encoded.
    struct DataWithId {
        ISimpleTrigger.TriggerId triggerId;
        bytes data;
    }

    /// @notice Everything stored for a trigger id once a signed envelope was accepted.
    struct SignedData {
        bytes data;
        IWavsServiceHandler.SignatureData signatureData;
        IWavsServiceHandler.Envelope envelope;
    }

    function getSignedData(ISimpleTrigger.TriggerId triggerId) external view returns (SignedData memory);
}

/// @title SimpleSubmit
/// @notice WAVS's example handler: accepts an envelope once the service manager validates it, reads
///         the payload as DataWithId and keeps the result, its signatures and envelope per trigger id.
/// @dev A later envelope for the same trigger id overwrites the earlier one, as in WAVS.
contract SimpleSubmit is IWavsServiceHandler, ISimpleSubmit {
    IWavsServiceManager private immutable _serviceManager;

    mapping(ISimpleTrigger.TriggerId => bool) private _validTriggers;
    mapping(ISimpleTrigger.TriggerId => SignedData) private _signedData;

    constructor(IWavsServiceManager serviceManager) {
        _serviceManager = serviceManager;
    }

    /// @inheritdoc IWavsServiceHandler
    /// @dev Bubbles up the service manager's errors; reverts without data when the payload is not
    ///      an abi-encoded DataWithId.
    function handleSignedEnvelope(Envelope calldata envelope, SignatureData calldata signatureData) external {
        _serviceManager.validate(envelope, signatureData);

        DataWithId memory dataWithId = abi.decode(envelope.payload, (DataWithId));

        SignedData storage stored = _signedData[dataWithId.triggerId];
        stored.data = dataWithId.data;
        stored.signatureData = signatureData;
        stored.envelope = envelope;
        _validTriggers[dataWithId.triggerId] = true;
    }

    /// @inheritdoc IWavsServiceHandler
    function getServiceManager() external view returns (address) {
        return address(_serviceManager);
    }

    /// @notice Whether a signed result was accepted for this trigger id.
    function isValidTriggerId(ISimpleTrigger.TriggerId triggerId) external view returns (bool) {
        return _validTriggers[triggerId];
    }

    /// @inheritdoc ISimpleSubmit
    function getSignedData(ISimpleTrigger.TriggerId triggerId) external view returns (SignedData memory) {
        return _signedData[triggerId];
    }

    /// @notice The accepted result for a trigger id, as the component returned it.
    function getDataWithId(ISimpleTrigger.TriggerId triggerId) external view returns (DataWithId memory) {
        return DataWithId({triggerId: triggerId, data: _signedData[triggerId].data});
    }
}
