// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Sandrun marketplace: a node registry with bonds, and k-of-n jobs paid from escrow.
/// @notice Posters pay `pricePerNode * n` into escrow; up to n registered nodes claim the job
/// (each claim locks part of the node's bond) and submit a result hash; once k results agree
/// anyone may finalize: agreeing nodes are paid, dissenters' locks are slashed, unused escrow
/// goes back to the poster. With no agreement by the deadline anyone may refund the poster.
/// Every payment is a credit withdrawn with `withdraw()` (pull payments).
/// @dev Gas: a job is 2 storage slots plus one slot per distinct result hash; claims are 32-bit
/// entries (node id << 8 | result tag) packed beside the job's fields, so a claim writes no
/// new slot; a node's bond, claim count and earnings share one slot, so a claim, a payment or
/// a slash is one 5,000-gas update. Data only clients read (CIDs, signatures, job hash) lives
/// in events.
/// Design choices and their reasons: contracts/README.md.
contract SandrunMarket {
    // ---------------------------------------------------------------------------------------
    // Types and storage
    // ---------------------------------------------------------------------------------------

    enum JobState {
        None,
        Open,
        Claimed,
        Finalized,
        Refunded,
        Cancelled
    }

    /// A node's registration and anyone's pull-payment balance (posters use only `balance`).
    struct Account {
        // slot A: all that claim, submitResult, finalize and withdraw touch. The bond is capped
        // at 2^80 wei (1.2 million ether) so that the balance gets 104 bits: more than 16 jobs
        // of the largest escrow (16 * 2^96 wei each) could ever credit.
        uint80 bond;
        uint16 claims; // claims holding a lock; each locks claimBond
        uint32 unbondingAt; // 0 = active; else the time the bond may be withdrawn
        uint24 id; // 0 = not registered; claims store this instead of the address
        uint104 balance; // earnings and refunds, withdrawn with withdraw()
        // slot B
        bytes32 workerKey; // the Ed25519 public key its worker signs results with
        // slot C
        uint96 price; // asking price per job (information for posters)
        // slots D..
        string endpoint;
    }

    struct Job {
        // slot 0
        address poster;
        uint96 pricePerNode;
        // slot 1
        Head head;
        // slots 2-3: claim entries 5..15
        uint256[2] claimsHigh;
        // distinct result hashes in order of first submission (only written slots cost gas)
        bytes32[16] results;
    }

    /// A job's slot 1: all that claim and submitResult read and write. (Copying it to memory
    /// and back costs more than the warm SLOADs it saves: +700 to +1,300 gas a call, measured.)
    struct Head {
        uint40 deadline;
        uint8 k;
        uint8 n;
        JobState state;
        uint8 claimCount;
        uint8 winner; // 1 + index in `results` of the hash k nodes agree on; 0 = none yet
        uint8 distinctCount; // distinct result hashes so far
        uint160 claimsLow; // claim entries 0..4 (32 bits each)
    }

    /// Returned by getJob: a job's whole state in one call.
    struct JobView {
        JobState state;
        address poster;
        uint8 k;
        uint8 n;
        uint40 deadline;
        uint96 pricePerNode;
        bytes32 agreedResult; // zero until k results agree
        address[] claims;
        bool[] submitted;
        bytes32[] resultHashes; // zero where not submitted
    }

    /// Returned by getNode.
    struct NodeView {
        bool registered;
        uint24 id;
        bytes32 workerKey;
        string endpoint;
        uint96 price;
        uint256 bond;
        uint256 locked; // activeClaims * claimBond
        uint16 activeClaims;
        uint32 unbondingAt;
        uint256 balance;
    }

    uint256 public constant MAX_NODES = 16;
    uint256 public constant MAX_CID_LENGTH = 128;
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;
    uint256 public constant MAX_RUN_LENGTH = 128; // a worker's job id is ~20 bytes
    uint256 private constant SIGNATURE_LENGTH = 64; // Ed25519
    uint256 private constant LOW_ENTRIES = 5; // claim entries packed into slot 1
    uint256 private constant ENTRY_MASK = 0xffffffff;

    uint80 public immutable minBond;
    uint80 public immutable claimBond;
    uint32 public immutable unbondingDelay;

    mapping(address => Account) private accounts;
    mapping(uint256 => address) public nodeAddress; // node id => node
    uint24 public nodeCount;
    uint256 private nextJobId = 1; // non-zero from the start: posting a job updates, not creates
    mapping(uint256 => Job) private jobs;
    bool private transient entered;

    // ---------------------------------------------------------------------------------------
    // Events: one for every state change
    // ---------------------------------------------------------------------------------------

    event NodeRegistered(
        address indexed node, uint24 id, bytes32 workerKey, string endpoint, uint96 price, uint256 bond
    );
    event NodeUpdated(address indexed node, bytes32 workerKey, string endpoint, uint96 price, uint256 bond);
    event UnbondingStarted(address indexed node, uint32 readyAt);
    event BondWithdrawn(address indexed node, uint256 amount);
    event JobPosted(
        uint256 indexed jobId,
        address indexed poster,
        bytes32 indexed jobHash,
        string inputCid,
        uint8 k,
        uint8 n,
        uint96 pricePerNode,
        uint40 deadline
    );
    event JobClaimed(uint256 indexed jobId, address indexed node); // locks claimBond
    /// A claimant's worker runs the job as `run` (the worker's own job id): clients follow its
    /// logs on the node's registered endpoint. Information only; the contract keeps nothing.
    event JobRunning(uint256 indexed jobId, address indexed node, string run);
    event ResultSubmitted(
        uint256 indexed jobId, address indexed node, bytes32 resultHash, string outputCid, bytes signature
    );
    /// `paid` is the total to `agreeing` (pricePerNode each), `slashed` the total taken from
    /// `dissenting`, `refunded` what went back to the poster. Claimants in neither list never
    /// submitted: their lock is released, unpaid.
    event JobFinalized(
        uint256 indexed jobId,
        bytes32 resultHash,
        address[] agreeing,
        address[] dissenting,
        uint256 paid,
        uint256 slashed,
        uint256 refunded
    );
    /// After the deadline with no agreement: the poster gets the whole escrow back; claimants
    /// that never submitted are slashed (`slashed` in total, one NodeSlashed each).
    event JobRefunded(uint256 indexed jobId, address indexed poster, uint256 refunded, uint256 slashed);
    event JobCancelled(uint256 indexed jobId, address indexed poster, uint256 refunded);
    event NodeSlashed(uint256 indexed jobId, address indexed node, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    // ---------------------------------------------------------------------------------------
    // Errors (no revert strings)
    // ---------------------------------------------------------------------------------------

    error InvalidSettings(); // constructor: claimBond == 0, claimBond > minBond or minBond > 2^80
    error AlreadyRegistered(address node);
    error NotRegistered(address node);
    error InvalidWorkerKey();
    error EndpointTooLong(uint256 length, uint256 max);
    error BondTooLow(uint256 bond, uint256 minimum);
    error AmountTooLarge(uint256 amount, uint256 max);
    error NodeIsUnbonding(address node, uint256 readyAt);
    error NotUnbonding(address node);
    error UnbondingNotElapsed(uint256 readyAt, uint256 now_);
    error BondLocked(uint256 activeClaims);
    error InvalidJobHash();
    error InvalidCid(uint256 length);
    error InvalidQuorum(uint256 k, uint256 n);
    error InvalidPrice();
    error InvalidDeadline(uint256 deadline, uint256 now_);
    error WrongPayment(uint256 sent, uint256 required);
    error JobNotFound(uint256 jobId);
    error WrongJobState(uint256 jobId, JobState state);
    error DeadlinePassed(uint256 jobId, uint256 deadline);
    error DeadlineNotPassed(uint256 jobId, uint256 deadline);
    error AlreadyClaimed(uint256 jobId, address node);
    error JobFull(uint256 jobId, uint256 n);
    error InsufficientBond(uint256 available, uint256 required);
    error NotClaimant(uint256 jobId, address node);
    error AlreadySubmitted(uint256 jobId, address node);
    error InvalidSignatureLength(uint256 length);
    error InvalidRun(uint256 length);
    error NoConsensus(uint256 jobId, uint256 agreeing, uint256 k);
    error ConsensusReached(uint256 jobId);
    error NotPoster(uint256 jobId, address caller);
    error NothingToWithdraw(address account);
    error TransferFailed(address to, uint256 amount);
    error Reentrancy();

    /// @param minBond_ the least a node registers with
    /// @param claimBond_ the part of a node's bond each claim locks (<= minBond)
    /// @param unbondingDelay_ seconds between unregisterNode() and withdrawBond()
    constructor(uint256 minBond_, uint256 claimBond_, uint32 unbondingDelay_) {
        if (claimBond_ == 0 || claimBond_ > minBond_ || minBond_ > type(uint80).max) revert InvalidSettings();
        minBond = uint80(minBond_);
        claimBond = uint80(claimBond_);
        unbondingDelay = unbondingDelay_;
    }

    /// Only the functions that send ether can be re-entered usefully; they are guarded with a
    /// transient flag (~200 gas) on top of checks-effects-interactions.
    modifier nonReentrant() {
        if (entered) revert Reentrancy();
        entered = true;
        _;
        entered = false;
    }

    // ---------------------------------------------------------------------------------------
    // Node registry
    // ---------------------------------------------------------------------------------------

    function registerNode(bytes32 workerKey, string calldata endpoint, uint96 price) external payable {
        Account storage a = accounts[msg.sender];
        if (a.id != 0) revert AlreadyRegistered(msg.sender);
        _checkNodeFields(workerKey, endpoint);
        if (msg.value < minBond) revert BondTooLow(msg.value, minBond);
        uint80 bond = _toBond(msg.value);
        uint24 id = ++nodeCount; // 16.7 million registrations; beyond that Panic(0x11)
        nodeAddress[id] = msg.sender;
        a.bond = bond;
        a.id = id;
        a.workerKey = workerKey;
        a.price = price;
        a.endpoint = endpoint;
        emit NodeRegistered(msg.sender, id, workerKey, endpoint, price, bond);
    }

    /// Replaces the worker key, endpoint and price; ether sent adds to the bond.
    function updateNode(bytes32 workerKey, string calldata endpoint, uint96 price) external payable {
        Account storage a = _activeNode(msg.sender);
        _checkNodeFields(workerKey, endpoint);
        uint80 bond = _toBond(uint256(a.bond) + msg.value);
        a.bond = bond;
        a.workerKey = workerKey;
        a.price = price;
        a.endpoint = endpoint;
        emit NodeUpdated(msg.sender, workerKey, endpoint, price, bond);
    }

    /// Stops new claims and starts the unbonding delay; jobs already claimed go on as usual.
    function unregisterNode() external {
        Account storage a = _activeNode(msg.sender);
        uint32 readyAt = uint32(block.timestamp + unbondingDelay);
        a.unbondingAt = readyAt;
        emit UnbondingStarted(msg.sender, readyAt);
    }

    /// Pays the whole bond back once the delay has passed and no claim holds a lock; the
    /// registration ends (earnings stay in `balance`).
    function withdrawBond() external nonReentrant {
        Account storage a = accounts[msg.sender];
        if (a.id == 0) revert NotRegistered(msg.sender);
        uint256 readyAt = a.unbondingAt;
        if (readyAt == 0) revert NotUnbonding(msg.sender);
        if (block.timestamp < readyAt) revert UnbondingNotElapsed(readyAt, block.timestamp);
        if (a.claims != 0) revert BondLocked(a.claims);
        uint256 amount = a.bond;
        (a.bond, a.unbondingAt, a.id, a.workerKey, a.price) = (0, 0, 0, 0, 0);
        delete a.endpoint;
        emit BondWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Jobs
    // ---------------------------------------------------------------------------------------

    /// Escrows exactly `pricePerNode * n`. k must be a strict majority of n (k > n/2), so at
    /// most one result can ever reach k.
    function postJob(
        bytes32 jobHash,
        string calldata inputCid,
        uint8 k,
        uint8 n,
        uint96 pricePerNode,
        uint40 deadline
    ) external payable returns (uint256 jobId) {
        if (jobHash == 0) revert InvalidJobHash();
        _checkCid(bytes(inputCid).length);
        if (n == 0 || n > MAX_NODES || k > n || 2 * uint256(k) <= n) revert InvalidQuorum(k, n);
        if (pricePerNode == 0) revert InvalidPrice();
        if (deadline <= block.timestamp) revert InvalidDeadline(deadline, block.timestamp);
        uint256 required = uint256(pricePerNode) * n;
        if (msg.value != required) revert WrongPayment(msg.value, required);
        jobId = nextJobId++;
        Job storage job = jobs[jobId];
        job.poster = msg.sender;
        job.pricePerNode = pricePerNode;
        Head storage h = job.head;
        h.deadline = deadline;
        h.k = k;
        h.n = n;
        h.state = JobState.Open;
        emit JobPosted(jobId, msg.sender, jobHash, inputCid, k, n, pricePerNode, deadline);
    }

    /// Takes one of the job's n places and locks claimBond of the caller's bond (a fixed amount,
    /// so that claim does not read the job's price: -2,100 gas a claim; see README).
    function claim(uint256 jobId) external {
        (Job storage job, Head storage h) = _runningJob(jobId);
        Account storage a = _activeNode(msg.sender);
        uint256 id = a.id;
        uint256 count = h.claimCount;
        for (uint256 i; i < count; ++i) {
            if (_entry(job, h, i) >> 8 == id) revert AlreadyClaimed(jobId, msg.sender);
        }
        if (count == h.n) revert JobFull(jobId, count);
        uint256 available = a.bond - uint256(a.claims) * claimBond;
        if (available < claimBond) revert InsufficientBond(available, claimBond);
        a.claims += 1;
        _setEntry(job, h, count, id << 8);
        h.claimCount = uint8(count + 1);
        h.state = JobState.Claimed;
        emit JobClaimed(jobId, msg.sender);
    }

    /// Records the caller's result. `resultHash` is the SDK's consensus key (exit code and
    /// output hashes); the CID and the worker's Ed25519 signature are only emitted, for
    /// clients to verify off chain.
    function submitResult(uint256 jobId, bytes32 resultHash, string calldata outputCid, bytes calldata signature)
        external
    {
        if (signature.length != SIGNATURE_LENGTH) revert InvalidSignatureLength(signature.length);
        _checkCid(bytes(outputCid).length);
        (Job storage job, Head storage h) = _runningJob(jobId);
        uint256 id = accounts[msg.sender].id;
        uint256 count = h.claimCount;
        uint256 index = count;
        uint256 entry;
        for (uint256 i; i < count; ++i) {
            entry = _entry(job, h, i);
            if (entry >> 8 == id) {
                index = i;
                break;
            }
        }
        if (index == count) revert NotClaimant(jobId, msg.sender);
        if (entry & 0xff != 0) revert AlreadySubmitted(jobId, msg.sender);

        uint256 distinct = h.distinctCount;
        uint256 tag;
        for (uint256 r; r < distinct; ++r) {
            if (job.results[r] == resultHash) {
                tag = r + 1;
                break;
            }
        }
        if (tag == 0) {
            job.results[distinct] = resultHash;
            tag = distinct + 1;
            h.distinctCount = uint8(tag);
        }
        _setEntry(job, h, index, entry | tag);
        if (h.winner == 0 && _votes(job, h, count, tag) >= h.k) h.winner = uint8(tag);
        emit ResultSubmitted(jobId, msg.sender, resultHash, outputCid, signature);
    }

    /// A claimant that has not submitted yet announces the id its worker gave the run, for
    /// clients to follow the logs. Only emitted, nothing stored (30,285 gas for a 16-byte id);
    /// may be sent again if the node reruns the job.
    function started(uint256 jobId, string calldata run) external {
        uint256 length = bytes(run).length;
        if (length == 0 || length > MAX_RUN_LENGTH) revert InvalidRun(length);
        (Job storage job, Head storage h) = _runningJob(jobId);
        uint256 id = accounts[msg.sender].id;
        uint256 count = h.claimCount;
        uint256 i;
        uint256 entry;
        for (; i < count; ++i) {
            entry = _entry(job, h, i);
            if (entry >> 8 == id) break;
        }
        if (i == count) revert NotClaimant(jobId, msg.sender);
        if (entry & 0xff != 0) revert AlreadySubmitted(jobId, msg.sender);
        emit JobRunning(jobId, msg.sender, run);
    }

    /// Settles a job k nodes agree on. Callable by anyone, also after the deadline.
    function finalize(uint256 jobId) external {
        (Job storage job, Head storage h) = _job(jobId);
        if (h.state != JobState.Claimed) revert WrongJobState(jobId, h.state);
        uint256 winner = h.winner;
        uint256 count = h.claimCount;
        if (winner == 0) revert NoConsensus(jobId, _bestVotes(job, h, count), h.k);
        h.state = JobState.Finalized;

        uint96 price = job.pricePerNode;
        uint80 lock = claimBond;
        address[] memory agreeing = new address[](count);
        address[] memory dissenting = new address[](count);
        uint256 paidCount;
        uint256 slashedCount;
        for (uint256 i; i < count; ++i) {
            uint256 entry = _entry(job, h, i);
            address node = nodeAddress[entry >> 8];
            Account storage a = accounts[node];
            uint256 tag = entry & 0xff;
            a.claims -= 1;
            if (tag == winner) {
                a.balance += price;
                agreeing[paidCount++] = node;
            } else if (tag != 0) {
                a.bond -= lock;
                dissenting[slashedCount++] = node;
                emit NodeSlashed(jobId, node, lock);
            }
            // tag == 0: claimed but never submitted: released, unpaid (see README)
        }
        _truncate(agreeing, paidCount);
        _truncate(dissenting, slashedCount);
        uint256 refunded = uint256(price) * (h.n - paidCount);
        if (refunded != 0) accounts[job.poster].balance += uint104(refunded);
        emit JobFinalized(
            jobId,
            job.results[winner - 1],
            agreeing,
            dissenting,
            uint256(price) * paidCount,
            uint256(lock) * slashedCount,
            refunded
        );
    }

    /// After the deadline with no k agreeing results: the whole escrow back to the poster;
    /// claimants that never submitted are slashed, the others released. Callable by anyone.
    function refund(uint256 jobId) external {
        (Job storage job, Head storage h) = _job(jobId);
        if (h.state != JobState.Open && h.state != JobState.Claimed) revert WrongJobState(jobId, h.state);
        if (block.timestamp <= h.deadline) revert DeadlineNotPassed(jobId, h.deadline);
        if (h.winner != 0) revert ConsensusReached(jobId);
        h.state = JobState.Refunded;

        uint80 lock = claimBond;
        uint256 count = h.claimCount;
        uint256 slashed;
        for (uint256 i; i < count; ++i) {
            uint256 entry = _entry(job, h, i);
            address node = nodeAddress[entry >> 8];
            Account storage a = accounts[node];
            a.claims -= 1;
            if (entry & 0xff == 0) {
                a.bond -= lock;
                slashed += lock;
                emit NodeSlashed(jobId, node, lock);
            }
        }
        uint256 refunded = uint256(job.pricePerNode) * h.n;
        address poster = job.poster;
        accounts[poster].balance += uint104(refunded);
        emit JobRefunded(jobId, poster, refunded, slashed);
    }

    /// The poster takes the job back before any node claimed it.
    function cancel(uint256 jobId) external {
        (Job storage job, Head storage h) = _job(jobId);
        if (job.poster != msg.sender) revert NotPoster(jobId, msg.sender);
        if (h.state != JobState.Open) revert WrongJobState(jobId, h.state);
        h.state = JobState.Cancelled;
        uint256 refunded = uint256(job.pricePerNode) * h.n;
        accounts[msg.sender].balance += uint104(refunded);
        emit JobCancelled(jobId, msg.sender, refunded);
    }

    /// Sends the caller everything credited to it (earnings, refunds).
    function withdraw() external nonReentrant {
        Account storage a = accounts[msg.sender];
        uint256 amount = a.balance;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        a.balance = 0;
        emit Withdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    function jobCount() external view returns (uint256) {
        return nextJobId - 1;
    }

    function balanceOf(address account) external view returns (uint256) {
        return accounts[account].balance;
    }

    function getJob(uint256 jobId) external view returns (JobView memory v) {
        (Job storage job, Head storage h) = _job(jobId);
        uint256 count = h.claimCount;
        v.state = h.state;
        v.poster = job.poster;
        v.k = h.k;
        v.n = h.n;
        v.deadline = h.deadline;
        v.pricePerNode = job.pricePerNode;
        if (h.winner != 0) v.agreedResult = job.results[h.winner - 1];
        v.claims = new address[](count);
        v.submitted = new bool[](count);
        v.resultHashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            uint256 entry = _entry(job, h, i);
            v.claims[i] = nodeAddress[entry >> 8];
            uint256 tag = entry & 0xff;
            if (tag != 0) {
                v.submitted[i] = true;
                v.resultHashes[i] = job.results[tag - 1];
            }
        }
    }

    function getNode(address node) external view returns (NodeView memory v) {
        Account storage a = accounts[node];
        v.registered = a.id != 0;
        v.id = a.id;
        v.workerKey = a.workerKey;
        v.endpoint = a.endpoint;
        v.price = a.price;
        v.bond = a.bond;
        v.locked = uint256(a.claims) * claimBond;
        v.activeClaims = a.claims;
        v.unbondingAt = a.unbondingAt;
        v.balance = a.balance;
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _job(uint256 jobId) private view returns (Job storage job, Head storage h) {
        job = jobs[jobId];
        h = job.head;
        if (h.state == JobState.None) revert JobNotFound(jobId);
    }

    /// A job that still takes claims and results: open or claimed, deadline not passed.
    function _runningJob(uint256 jobId) private view returns (Job storage job, Head storage h) {
        (job, h) = _job(jobId);
        if (h.state != JobState.Open && h.state != JobState.Claimed) revert WrongJobState(jobId, h.state);
        if (block.timestamp > h.deadline) revert DeadlinePassed(jobId, h.deadline);
    }

    function _activeNode(address node) private view returns (Account storage a) {
        a = accounts[node];
        if (a.id == 0) revert NotRegistered(node);
        if (a.unbondingAt != 0) revert NodeIsUnbonding(node, a.unbondingAt);
    }

    function _checkNodeFields(bytes32 workerKey, string calldata endpoint) private pure {
        if (workerKey == 0) revert InvalidWorkerKey();
        if (bytes(endpoint).length > MAX_ENDPOINT_LENGTH) {
            revert EndpointTooLong(bytes(endpoint).length, MAX_ENDPOINT_LENGTH);
        }
    }

    function _checkCid(uint256 length) private pure {
        if (length == 0 || length > MAX_CID_LENGTH) revert InvalidCid(length);
    }

    function _toBond(uint256 amount) private pure returns (uint80) {
        if (amount > type(uint80).max) revert AmountTooLarge(amount, type(uint80).max);
        return uint80(amount);
    }

    /// Claim entry i: node id << 8 | result tag (0 = no result yet, else 1 + index in results).
    function _entry(Job storage job, Head storage h, uint256 i) private view returns (uint256) {
        if (i < LOW_ENTRIES) return (uint256(h.claimsLow) >> (32 * i)) & ENTRY_MASK;
        i -= LOW_ENTRIES;
        return (job.claimsHigh[i / 8] >> (32 * (i % 8))) & ENTRY_MASK;
    }

    /// Entries 0..4 change in `h` (stored with the rest of the head), the others in storage.
    function _setEntry(Job storage job, Head storage h, uint256 i, uint256 entry) private {
        if (i < LOW_ENTRIES) {
            uint256 shift = 32 * i;
            h.claimsLow = uint160((uint256(h.claimsLow) & ~(ENTRY_MASK << shift)) | (entry << shift));
        } else {
            i -= LOW_ENTRIES;
            uint256 shift = 32 * (i % 8);
            uint256 word = job.claimsHigh[i / 8];
            job.claimsHigh[i / 8] = (word & ~(ENTRY_MASK << shift)) | (entry << shift);
        }
    }

    function _votes(Job storage job, Head storage h, uint256 count, uint256 tag)
        private
        view
        returns (uint256 votes)
    {
        for (uint256 i; i < count; ++i) {
            if (_entry(job, h, i) & 0xff == tag) ++votes;
        }
    }

    function _bestVotes(Job storage job, Head storage h, uint256 count) private view returns (uint256 best) {
        uint256 distinct = h.distinctCount;
        for (uint256 tag = 1; tag <= distinct; ++tag) {
            uint256 votes = _votes(job, h, count, tag);
            if (votes > best) best = votes;
        }
    }

    function _truncate(address[] memory list, uint256 length) private pure {
        assembly ("memory-safe") {
            mstore(list, length)
        }
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
