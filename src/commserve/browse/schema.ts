import { Type } from '@sinclair/typebox';
import type { RouteDocs } from '../../http/route-doc.js';

const WholeNumber = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]);

/** The fields of cvpysdk's browse request that Bulwark reads; the others are taken and ignored. */
const DoBrowseBody = Type.Object({
  opType: Type.Optional(Type.Integer({ description: '0 browse, 1 find' })),
  entity: Type.Object({
    subclientId: Type.Optional(WholeNumber),
    backupsetId: Type.Optional(WholeNumber),
    clientId: Type.Optional(WholeNumber),
    applicationId: Type.Optional(WholeNumber),
    instanceId: Type.Optional(WholeNumber),
    clientName: Type.Optional(Type.String()),
  }),
  paths: Type.Optional(Type.Array(Type.Object({ path: Type.String() }))),
  timeRange: Type.Optional(Type.Object({ fromTime: Type.Optional(WholeNumber), toTime: Type.Optional(WholeNumber) })),
  options: Type.Optional(Type.Object({ showDeletedFiles: Type.Optional(Type.Boolean()) })),
  queries: Type.Optional(
    Type.Array(
      Type.Object({
        type: Type.Optional(Type.Integer()),
        queryId: Type.Optional(Type.String()),
        whereClause: Type.Optional(
          Type.Array(
            Type.Object({
              criteria: Type.Object({
                field: Type.String({ description: 'FileName or FileSize' }),
                dataOperator: Type.Optional(Type.String()),
                values: Type.Array(Type.String()),
              }),
            }),
          ),
        ),
        dataParam: Type.Optional(
          Type.Object({
            paging: Type.Optional(
              Type.Object({ pageSize: Type.Optional(WholeNumber), skipNode: Type.Optional(WholeNumber) }),
            ),
          }),
        ),
      }),
    ),
  ),
});

/** cvpysdk's restore task: the subclient in associations, the files in subTasks[0].options.restoreOptions. */
const CreateTaskBody = Type.Object({
  taskInfo: Type.Object({
    associations: Type.Array(Type.Object({ subclientId: Type.Optional(WholeNumber) })),
    task: Type.Optional(Type.Object({})),
    subTasks: Type.Array(Type.Object({})),
  }),
});

const JobDetailsBody = Type.Object({ jobId: WholeNumber, showAttempt: Type.Optional(Type.Boolean()) });

/** cvpysdk's JobController body. */
const JobsBody = Type.Object({
  scope: Type.Optional(Type.Integer()),
  category: Type.Optional(Type.Integer({ description: '0 all, 1 active, 2 finished' })),
  pagingConfig: Type.Optional(
    Type.Object({
      offset: Type.Optional(Type.Integer({ minimum: 0 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      sortDirection: Type.Optional(Type.Integer({ description: '1 newest first, 0 oldest first' })),
      sortField: Type.Optional(Type.String({ description: 'jobId' })),
    }),
  ),
  jobFilter: Type.Optional(
    Type.Object({
      completedJobLookupTime: Type.Optional(Type.Integer({ minimum: 0 })),
      showAgedJobs: Type.Optional(Type.Boolean()),
      hideAdminJobs: Type.Optional(Type.Boolean()),
      clientList: Type.Optional(Type.Array(Type.Object({ clientId: WholeNumber }), { maxItems: 1000 })),
      jobTypeList: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});

/** The API reference's docs of these routes (src/http/route-doc.ts says what each field means). */
export const BROWSE_DOCS: RouteDocs = {
  'GET /VSAClientAndClientGroupList': {
    summary: 'Virtualization access nodes and their groups: always empty (Bulwark keeps none; cvpysdk reads it)',
    root: 'App_VSAClientAndClientGroupListResp',
    example: { clients: [], groups: [] },
  },
  'GET /CommServ': {
    summary: "The CommServe's name, version and time zone (cvpysdk reads it before a restore)",
    root: 'App_GetCommServResp',
    example: {
      commcell: { commCellName: 'bulwark', commCellId: 2, csGUID: '00000000-0000-0000-0000-000000000000' },
      hostName: 'bulwark',
      csTimeZone: { TimeZoneName: 'UTC' },
      timeZone: '(UTC) Coordinated Universal Time',
      currentSPVersion: 32,
      csVersionInfo: '11.32.0',
      releaseName: 'Bulwark',
    },
  },
  'GET /Schedules': {
    summary: 'Schedules: always empty (Bulwark keeps none; cvpysdk reads them)',
    root: 'TMMsg_TaskDetailResp',
    example: { taskDetail: [] },
  },
  'GET /Agent': {
    summary: "A client's agents (?clientId=)",
    root: 'App_GenericResp',
    example: {
      agentProperties: [
        {
          idaEntity: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            _type_: 4,
          },
          idaActivityControl: {
            activityControlOptions: [
              {
                activityType: 1,
                enableActivityType: true,
              },
            ],
          },
        },
      ],
    },
  },
  'GET /Instance': {
    summary: "A client's instances (?clientId=)",
    root: 'App_GetInstancePropertiesResponse',
    example: {
      instanceProperties: [
        {
          instance: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            _type_: 5,
          },
          instanceActivityControl: {
            activityControlOptions: [
              {
                activityType: 1,
                enableActivityType: true,
              },
            ],
          },
        },
      ],
    },
  },
  'GET /Backupset': {
    summary: "A client's backup sets (?clientId=)",
    root: 'App_GetBackupsetPropertiesResponse',
    example: {
      backupsetProperties: [
        {
          backupSetEntity: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            backupsetId: 4,
            backupsetName: 'defaultBackupSet',
            _type_: 6,
          },
          commonBackupSet: {
            isDefaultBackupSet: true,
            onDemandBackupset: false,
          },
          planEntity: {},
        },
      ],
    },
  },
  'GET /Backupset/:id': {
    summary: 'One backup set',
    root: 'App_GetBackupsetPropertiesResponse',
    example: {
      backupsetProperties: [
        {
          backupSetEntity: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            backupsetId: 4,
            backupsetName: 'defaultBackupSet',
            _type_: 6,
          },
          commonBackupSet: {
            isDefaultBackupSet: true,
            onDemandBackupset: false,
          },
          planEntity: {},
        },
      ],
    },
  },
  'GET /Subclient': {
    summary: "A client's subclients (?clientId=)",
    root: 'App_GetSubClientPropertiesResponse',
    example: {
      subClientProperties: [
        {
          subClientEntity: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            backupsetId: 4,
            backupsetName: 'defaultBackupSet',
            _type_: 7,
            subclientId: 5,
            subclientName: 'default',
          },
          commonProperties: {
            isDefaultSubclient: true,
            enableBackup: true,
          },
        },
      ],
    },
  },
  'GET /Subclient/:id': {
    summary: 'One subclient',
    root: 'App_GetSubClientPropertiesResponse',
    example: {
      subClientProperties: [
        {
          subClientEntity: {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            backupsetId: 4,
            backupsetName: 'defaultBackupSet',
            _type_: 7,
            subclientId: 5,
            subclientName: 'default',
          },
          commonProperties: {
            isDefaultSubclient: true,
            enableBackup: true,
          },
          fsSubClientProp: {
            isDDBSubclient: false,
          },
          content: [],
          impersonateUser: {},
          proxyClient: {},
          planEntity: {},
        },
      ],
    },
  },
  'POST /DoBrowse': {
    summary: 'Browse the backed-up files of a subclient (needs Browse; a passkey may guard it)',
    root: 'DM2ContentIndexing_CVSearchResp',
    body: DoBrowseBody,
    bodyExample: {
      opType: 0,
      mode: {
        mode: 2,
      },
      paths: [
        {
          path: '/etc',
        },
      ],
      options: {
        showDeletedFiles: false,
        restoreIndex: true,
        vsDiskBrowse: false,
        vsFileBrowse: false,
        includeMetadata: false,
        hideUserHidden: false,
      },
      entity: {
        clientName: 'lin01',
        clientId: 1,
        applicationId: 29,
        instanceId: 1,
        backupsetId: 4,
        subclientId: 5,
      },
      timeRange: {
        fromTime: 0,
        toTime: 0,
      },
      advOptions: {
        copyPrecedence: 0,
      },
      ma: {
        clientName: '',
      },
      queries: [
        {
          type: 0,
          queryId: 'dataQuery',
          dataParam: {
            sortParam: {
              ascending: false,
              sortBy: [0],
            },
            paging: {
              pageSize: 100000,
              skipNode: 0,
              firstNode: 0,
            },
          },
        },
      ],
    },
    example: {
      browseResponses: [
        {
          respType: 0,
          workflowType: 1,
          browseResult: {
            totalItemsFound: 2,
            dataResultSet: [
              {
                displayName: 'etc',
                name: 'etc',
                path: '/etc',
                size: 5,
                modificationTime: 1699990000,
                flags: {
                  file: false,
                  directory: true,
                  deleted: false,
                },
                advancedData: {
                  backupTime: 1700100060,
                  jobId: 2,
                  subclientID: 5,
                  sizeOnMedia: 5,
                },
              },
            ],
          },
        },
      ],
    },
  },
  'POST /CreateTask': {
    summary: 'Start a restore task (needs the restore permission; a passkey may guard it)',
    root: 'TMMsg_CreateTaskResp',
    body: CreateTaskBody,
    bodyExample: {
      taskInfo: {
        associations: [
          {
            clientId: 1,
            clientName: 'lin01',
            applicationId: 29,
            appName: 'File System',
            instanceId: 3,
            instanceName: 'DefaultInstanceName',
            backupsetId: 4,
            backupsetName: 'defaultBackupSet',
            _type_: 7,
            subclientId: 5,
            subclientName: 'default',
          },
        ],
        task: {
          initiatedFrom: 2,
          taskType: 1,
          policyType: 0,
          taskFlags: {
            disabled: false,
          },
        },
        subTasks: [
          {
            subTaskOperation: 1,
            options: {
              commonOpts: {},
              restoreOptions: {
                impersonation: {
                  useImpersonation: false,
                  user: {
                    userName: '',
                    password: '',
                  },
                },
                browseOption: {
                  listMedia: false,
                  useExactIndex: false,
                  noImage: false,
                  commCellId: 2,
                  liveBrowse: false,
                  mediaOption: {
                    mediaAgent: {
                      mediaAgentName: '',
                    },
                    proxyForSnapClients: {
                      clientName: '',
                    },
                    library: {},
                    copyPrecedence: {
                      copyPrecedenceApplicable: false,
                      copyPrecedence: 0,
                    },
                    drivePool: {},
                  },
                  backupset: {
                    clientName: 'lin01',
                    appName: 'file system',
                  },
                  timeZone: {
                    TimeZoneName: '(UTC) Coordinated Universal Time',
                  },
                  timeRange: {},
                },
                commonOptions: {
                  systemStateBackup: false,
                  clusterDBBackedup: false,
                  powerRestore: false,
                  restoreToDisk: false,
                  indexFreeRestore: false,
                  offlineMiningRestore: false,
                  onePassRestore: false,
                  detectRegularExpression: true,
                  wildCard: false,
                  preserveLevel: 1,
                  restoreToExchange: false,
                  stripLevel: 0,
                  skipErrorsAndContinue: false,
                  restoreACLs: true,
                  stripLevelType: 0,
                  allVersion: false,
                  unconditionalOverwrite: true,
                  includeAgedData: false,
                  validateOnly: false,
                },
                destination: {
                  isLegalHold: false,
                  inPlace: false,
                  destPath: ['C:\\restore'],
                  destClient: {
                    clientName: 'win01',
                  },
                },
                fileOption: {
                  sourceItem: ['/data/sub'],
                  browseFilters: [],
                },
                virtualServerRstOption: {
                  isFileBrowse: false,
                },
                sharePointRstOption: {
                  is90OrUpgradedClient: false,
                },
                volumeRstOption: {
                  volumeLeveRestore: false,
                  volumeLevelRestoreType: 'PHYSICAL_VOLUME',
                },
              },
            },
            subTask: {
              subTaskType: 3,
              operationType: 1001,
            },
          },
        ],
      },
    },
    example: {
      jobIds: ['3'],
    },
  },
  'GET /Job/:id': {
    summary: 'One job',
    root: 'JM_JobManagerResp',
    example: {
      totalRecordsWithoutPaging: 1,
      jobs: [
        {
          jobSummary: {
            jobId: 3,
            isVisible: true,
            status: 'Pending',
            localizedStatus: 'Pending',
            jobType: 'Restore',
            localizedOperationName: 'Restore',
            backupLevelName: '',
            appTypeName: 'File System',
            jobStartTime: 1795420800,
            jobEndTime: 0,
            jobElapsedTime: 0,
            lastUpdateTime: 1795420800,
            percentComplete: 0,
            pendingReason: '',
            userName: {
              userName: 'admin',
            },
            destClientName: 'lin01',
            subclient: {
              clientId: 1,
              clientName: 'lin01',
              applicationId: 29,
              appName: 'File System',
              instanceId: 3,
              instanceName: 'DefaultInstanceName',
              backupsetId: 4,
              backupsetName: 'defaultBackupSet',
              _type_: 7,
              subclientId: 5,
              subclientName: 'default',
            },
          },
        },
      ],
    },
  },
  'POST /JobDetails': {
    summary: "A job's details",
    root: 'JM_JobDetailsResp',
    body: JobDetailsBody,
    bodyExample: {
      jobId: 3,
      showAttempt: true,
    },
    example: {
      job: {
        jobDetail: {
          generalInfo: {
            jobId: 3,
            operationType: 'Restore',
            jobStatus: 'Completed',
            subclient: {
              clientId: 1,
              clientName: 'lin01',
              applicationId: 29,
              appName: 'File System',
              instanceId: 3,
              instanceName: 'DefaultInstanceName',
              backupsetId: 4,
              backupsetName: 'defaultBackupSet',
              _type_: 7,
              subclientId: 5,
              subclientName: 'default',
            },
            startTime: 1795420800,
            endTime: 1795420805,
          },
          progressInfo: {
            percentComplete: 100,
            numOfFilesTransferred: 1,
          },
          detailInfo: {
            startTime: 1795420800,
            endTime: 1795420805,
            paths: ['/data/a.txt'],
          },
        },
      },
    },
  },
  'POST /Jobs': {
    summary: 'Jobs the caller sees',
    root: 'JM_JobManagerResp',
    body: JobsBody,
    bodyExample: {
      scope: 1,
      category: 1,
      pagingConfig: {
        sortDirection: 1,
        offset: 0,
        sortField: 'jobId',
        limit: 20,
      },
      jobFilter: {
        completedJobLookupTime: 3600,
        showAgedJobs: false,
        hideAdminJobs: false,
        clientList: [],
        jobTypeList: [],
      },
    },
    example: {
      totalRecordsWithoutPaging: 2,
      jobs: [
        {
          jobSummary: {
            jobId: 9,
            isVisible: true,
            status: 'Pending',
            localizedStatus: 'Pending',
            jobType: 'Restore',
            localizedOperationName: 'Restore',
            backupLevelName: '',
            appTypeName: 'File System',
            jobStartTime: 1795420800,
            jobEndTime: 0,
            jobElapsedTime: 0,
            lastUpdateTime: 1795420800,
            percentComplete: 0,
            pendingReason: '',
            userName: {
              userName: 'admin',
            },
            destClientName: 'lin01',
            subclient: {
              clientId: 1,
              clientName: 'lin01',
              applicationId: 29,
              appName: 'File System',
              instanceId: 3,
              instanceName: 'DefaultInstanceName',
              backupsetId: 4,
              backupsetName: 'defaultBackupSet',
              _type_: 7,
              subclientId: 5,
              subclientName: 'default',
            },
          },
        },
      ],
    },
  },
};
