// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IMarket {
    function registerNode(bytes32 workerKey, string calldata endpoint, uint96 price) external payable;
    function unregisterNode() external;
    function withdrawBond() external;
    function postJob(bytes32 jobHash, string calldata inputCid, uint8 k, uint8 n, uint96 pricePerNode, uint40 deadline)
        external
        payable
        returns (uint256);
    function cancel(uint256 jobId) external;
    function withdraw() external;
}

/// Test only: an account whose receive() tries to take its money twice by re-entering the
/// market (withdraw and withdrawBond), or refuses ether (mode RefuseEther).
contract MaliciousReceiver {
    enum Mode {
        Reenter,
        RefuseEther
    }

    IMarket public immutable market;
    Mode public mode;
    uint256 public received; // ether received, in total
    uint256 public reentries; // re-entry attempts made
    uint256 public reentrySuccesses; // re-entries that did not revert (must stay 0)
    bytes public withdrawError; // revert data of the last re-entered withdraw()
    bytes public withdrawBondError; // revert data of the last re-entered withdrawBond()

    constructor(IMarket market_) {
        market = market_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function register(bytes32 workerKey) external payable {
        market.registerNode{value: msg.value}(workerKey, "", 0);
    }

    function unregister() external {
        market.unregisterNode();
    }

    function post(bytes32 jobHash, uint96 price, uint40 deadline) external payable returns (uint256) {
        return market.postJob{value: msg.value}(jobHash, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1, 1, price, deadline);
    }

    function cancel(uint256 jobId) external {
        market.cancel(jobId);
    }

    function withdraw() external {
        market.withdraw();
    }

    function withdrawBond() external {
        market.withdrawBond();
    }

    receive() external payable {
        if (mode == Mode.RefuseEther) revert();
        received += msg.value;
        reentries += 1;
        try market.withdraw() {
            reentrySuccesses += 1;
        } catch (bytes memory err) {
            withdrawError = err;
        }
        try market.withdrawBond() {
            reentrySuccesses += 1;
        } catch (bytes memory err) {
            withdrawBondError = err;
        }
    }
}
