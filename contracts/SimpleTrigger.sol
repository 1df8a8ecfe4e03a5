// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISimpleTrigger
/// @notice Types shared by SimpleTrigger and SimpleSubmit (same layout as WAVS's example).
interface ISimpleTrigger {
    type TriggerId is uint64;

    /// @notice What NewTrigger carries, abi-encoded, and what getTrigger returns.
    struct TriggerInfo {
        TriggerId triggerId;
        address creator;
        bytes data;
    }

    function getTrigger(TriggerId triggerId) external view returns (TriggerInfo memory);
}

/// @title SimpleTrigger
/// @notice WAVS's example trigger source: anyone adds a request, which is stored and announced in a
///         NewTrigger event that operators react to. Trigger ids count up from 1.
contract SimpleTrigger is ISimpleTrigger {
    struct Trigger {
        address creator;
        bytes data;
    }

    /// @notice A request was added; `triggerData` is abi.encode(TriggerInfo).
    event NewTrigger(bytes triggerData);

    /// @notice The stored requests.
    mapping(TriggerId triggerId => Trigger) public triggersById;

    /// @notice The ids of the requests each address added, in order.
    mapping(address creator => TriggerId[]) public triggerIdsByCreator;

    /// @notice Despite its name (kept from WAVS), the id most recently issued; 0 before the first.
    TriggerId public nextTriggerId;

    /// @notice Stores a request and emits NewTrigger with its TriggerInfo.
    function addTrigger(bytes calldata data) external {
        TriggerId triggerId = TriggerId.wrap(TriggerId.unwrap(nextTriggerId) + 1);
        nextTriggerId = triggerId;

        triggersById[triggerId] = Trigger({creator: msg.sender, data: data});
        triggerIdsByCreator[msg.sender].push(triggerId);

        emit NewTrigger(abi.encode(TriggerInfo({triggerId: triggerId, creator: msg.sender, data: data})));
    }

    /// @inheritdoc ISimpleTrigger
    /// @dev An unknown id yields a zero creator and empty data.
    function getTrigger(TriggerId triggerId) external view returns (TriggerInfo memory) {
        Trigger storage trigger = triggersById[triggerId];
        return TriggerInfo({triggerId: triggerId, creator: trigger.creator, data: trigger.data});
    }
}
